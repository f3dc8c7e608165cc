import type { WireCodec } from './codec.js';

/**
 * The subscribers of one call, and how many of them use each encoding, so that a roster change
 * is encoded once per encoding in use without walking every subscriber (with a thousand of them,
 * that walk alone was most of a mute's event handling, on the reply's path).
 */
export class CallSubscribers<C extends { readonly codec: WireCodec }> {
  readonly connections = new Set<C>();
  private readonly perCodec = new Map<WireCodec, number>();

  add(connection: C): void {
    if (this.connections.has(connection)) return;
    this.connections.add(connection);
    this.perCodec.set(connection.codec, (this.perCodec.get(connection.codec) ?? 0) + 1);
  }

  delete(connection: C): void {
    if (!this.connections.delete(connection)) return;
    const left = (this.perCodec.get(connection.codec) ?? 1) - 1;
    if (left > 0) this.perCodec.set(connection.codec, left);
    else this.perCodec.delete(connection.codec);
  }

  /** The encodings at least one subscriber uses. */
  codecs(): IterableIterator<WireCodec> {
    return this.perCodec.keys();
  }

  get size(): number {
    return this.connections.size;
  }
}
