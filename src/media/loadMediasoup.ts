import { resolveWorkerBinary } from './workerBinary.js';

export type Mediasoup = typeof import('mediasoup');

let loaded: Promise<Mediasoup> | undefined;

/**
 * The mediasoup module, imported only after MEDIASOUP_WORKER_BIN points at a real binary
 * (mediasoup fixes the binary path when its module is evaluated, so a static import could
 * run before we set it).
 */
export function loadMediasoup(): Promise<Mediasoup> {
  if (!loaded) {
    resolveWorkerBinary();
    loaded = import('mediasoup');
  }
  return loaded;
}
