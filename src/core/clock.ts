/**
 * Time as a dependency. Logic in src/core takes `now` as a parameter; the processes that drive it
 * (worker, API) take a Clock so tests can move time forward instead of sleeping.
 */
export interface Clock {
  /** The current time. */
  now(): Date;
}

/** Wall-clock time. */
export const systemClock: Clock = { now: () => new Date() };
