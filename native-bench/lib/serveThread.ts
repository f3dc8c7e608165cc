import { parentPort } from 'node:worker_threads';

/** The thread side of ThreadClient: answers each `{ id, cmd }` with the handler's result. */
export function serveThread<Command>(handle: (cmd: Command) => Promise<unknown>): void {
  parentPort?.on('message', (message: { id: number; cmd: Command }) => {
    handle(message.cmd).then(
      (result) => parentPort?.postMessage({ id: message.id, result }),
      (err: unknown) => parentPort?.postMessage({ id: message.id, error: err instanceof Error ? err.message : String(err) }),
    );
  });
}
