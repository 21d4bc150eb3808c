/**
 * Message bodies held by a worker, once per message: a 1 MiB message fanned out to 600 endpoints is
 * 1 MiB in memory, not 600 MiB. Reference-counted by the deliveries in flight; a body is dropped
 * when its last delivery finishes, so memory is bounded by the distinct messages in flight.
 */
export class PayloadCache {
  private readonly entries = new Map<string, { payload: Buffer; refs: number }>();

  /** Message ids among `msgIds` whose body is not held yet (each once). */
  missing(msgIds: string[]): string[] {
    return [...new Set(msgIds)].filter((id) => !this.entries.has(id));
  }

  /** Takes a reference to a message's body, from the cache or from `loaded`. */
  acquire(msgId: string, loaded: Map<string, Buffer>): Buffer {
    let entry = this.entries.get(msgId);
    if (!entry) {
      const payload = loaded.get(msgId);
      if (!payload) throw new Error(`message ${msgId} has no stored payload`);
      entry = { payload, refs: 0 };
      this.entries.set(msgId, entry);
    }
    entry.refs += 1;
    return entry.payload;
  }

  /** Gives a reference back; the body is dropped with its last reference. */
  release(msgId: string): void {
    const entry = this.entries.get(msgId);
    if (!entry) return;
    entry.refs -= 1;
    if (entry.refs <= 0) this.entries.delete(msgId);
  }

  /** Messages held now. */
  get size(): number {
    return this.entries.size;
  }
}
