/** A clock tests move by hand: retry schedules are tested by advancing time, not by sleeping. */
import type { Clock } from '../../src/core/clock.js';

export class FakeClock implements Clock {
  private ms: number;
  constructor(start: Date | number = Date.UTC(2026, 0, 1)) {
    this.ms = typeof start === 'number' ? start : start.getTime();
  }
  now(): Date {
    return new Date(this.ms);
  }
  /** Moves time forward. */
  advance(ms: number): void {
    this.ms += ms;
  }
  /** Sets the time. */
  set(at: Date): void {
    this.ms = at.getTime();
  }
}
