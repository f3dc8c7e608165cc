import { EventEmitter } from 'node:events';

// The typed-map helpers of @types/node's EventEmitter<T>, restated: they are not exported, and
// `emit` can only be overridden with the very same signature.
type DefaultEventMap = [never];
// `any[]`: the constraint @types/node puts on event maps (a map of tuples of any argument types).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type EventMap<T> = Record<keyof T, any[]> | DefaultEventMap;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Args<K, T> = T extends DefaultEventMap ? [...args: any[]] : K extends keyof T ? T[K] : never;
type Key<K, T> = T extends DefaultEventMap ? string | symbol : K | keyof T;

/** Told about an error thrown (or a promise rejected) by a listener of `event`. */
export type ListenerErrorHandler = (event: string, error: unknown) => void;

/**
 * An EventEmitter whose `emit` cannot fail its caller (mediasoup's EnhancedEventEmitter.safeEmit
 * is the model): every listener is called, even after one has thrown, and what a listener throws
 * (or the promise an async listener rejects) goes to the listener-error handlers instead of the
 * code that emitted. The domain emits in the middle of its operations (a mute the worker has
 * confirmed, a join): an observer's bug must not turn them into failures or half-done state.
 *
 * `'error'` has no special meaning here: emitting it with no listener does not throw.
 */
export class SafeEventEmitter<T extends EventMap<T> = DefaultEventMap> extends EventEmitter<T> {
  private readonly errorHandlers: ListenerErrorHandler[] = [];

  /** Adds a handler for listeners' errors (e.g. a log line and a metric). */
  onListenerError(handler: ListenerErrorHandler): this {
    this.errorHandlers.push(handler);
    return this;
  }

  override emit<K>(eventName: Key<K, T>, ...args: Args<K, T>): boolean {
    // A copy, as EventEmitter takes one: listeners added or removed while emitting do not change
    // this round. rawListeners keeps the `once` wrappers, which remove themselves when called.
    const listeners = this.rawListeners(eventName) as ((...a: unknown[]) => unknown)[];
    const event = String(eventName);
    for (const listener of listeners) {
      try {
        const result = Reflect.apply(listener, this, args);
        if (isThenable(result)) result.then(undefined, (error: unknown) => this.reportListenerError(event, error));
      } catch (error) {
        this.reportListenerError(event, error);
      }
    }
    return listeners.length > 0;
  }

  private reportListenerError(event: string, error: unknown): void {
    if (this.errorHandlers.length === 0) {
      // Nobody wired a handler: still not the emitter's caller's problem, but not silent either.
      process.emitWarning(`a listener of "${event}" failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`, 'ListenerError');
      return;
    }
    for (const handler of this.errorHandlers) {
      try {
        handler(event, error);
      } catch {
        // A failing error handler (a broken logger) has nowhere left to report to; the emit goes on.
      }
    }
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
