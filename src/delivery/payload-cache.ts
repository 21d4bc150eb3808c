/**
 * Message bodies held by a worker, once per message: a 1 MiB message fanned out to 600 endpoints is
 * 1 MiB in memory, not 600 MiB. Reference-counted by the deliveries in flight; a body is dropped
 * when its last delivery finishes, so memory is bounded by the distinct messages in flight.
 */
export class PayloadCache {
  private readonly entries = new Map<string, { payload: Buffer; refs: number }>();

  /**
   * One body per id of `msgIds` (one id per claimed delivery, repeats allowed), each with a reference
   * taken. Bodies come from the cache, then from `arrived` (those that came with the claim), then from
   * `load` (only for bodies released between the claim and now: the claim skips bodies it was told
   * are held). References on bodies already held are taken before waiting for `load`, so a delivery
   * that finishes meanwhile cannot drop a body this batch still needs. If `load` fails, every
   * reference taken here is given back and the error is thrown.
   */
  async acquireAll(
    msgIds: string[],
    load: (missing: string[]) => Promise<Map<string, Buffer>>,
    arrived: ReadonlyMap<string, Buffer> = new Map(),
  ): Promise<Buffer[]> {
    const held: string[] = [];
    const missing = new Set<string>();
    for (const id of msgIds) {
      const entry = this.entries.get(id);
      if (entry) {
        entry.refs += 1;
        held.push(id);
      } else missing.add(id);
    }
    try {
      const toLoad = [...missing].filter((id) => !arrived.has(id));
      const loaded = new Map(arrived);
      if (toLoad.length > 0) for (const [id, body] of await load(toLoad)) loaded.set(id, body);
      for (const id of missing) if (!loaded.has(id)) throw new Error(`message ${id} has no stored payload`);
      return msgIds.map((id) => {
        if (!missing.has(id)) return this.entries.get(id)!.payload;
        let entry = this.entries.get(id);
        if (!entry) {
          entry = { payload: loaded.get(id)!, refs: 0 };
          this.entries.set(id, entry);
        }
        entry.refs += 1;
        return entry.payload;
      });
    } catch (e) {
      for (const id of held) this.release(id);
      throw e;
    }
  }

  /** Gives a reference back; the body is dropped with its last reference. */
  release(msgId: string): void {
    const entry = this.entries.get(msgId);
    if (!entry) return;
    entry.refs -= 1;
    if (entry.refs <= 0) this.entries.delete(msgId);
  }

  /** Ids of the messages whose bodies are held now. */
  heldIds(): string[] {
    return [...this.entries.keys()];
  }

  /** Messages held now. */
  get size(): number {
    return this.entries.size;
  }
}
