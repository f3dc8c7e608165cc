import type { PoolWorker } from './WorkerPool.js';
import type { LoadDelta } from './WorkerLoad.js';

/** One router of a call, as placement sees it. */
export interface RouterOccupancy<R> {
  readonly router: R;
  readonly worker: PoolWorker;
  /** Participants whose endpoint is on this router. */
  readonly endpoints: number;
}

export interface PlacementInput<R> {
  /** The call's routers (one per worker), in the order they should be tried. */
  routers: readonly RouterOccupancy<R>[];
  /** Live workers without a router of this call, least loaded first. */
  otherWorkers: readonly PoolWorker[];
  /** How many producers of `from` are piped into `into` already. */
  pipedInto(from: R, into: R): number;
}

/** Where a newcomer goes: an existing router of the call, or a new one on `worker`. */
export type Placement<R> = { router: R; worker: PoolWorker; deltas: Map<PoolWorker, LoadDelta> } | { router: null; worker: PoolWorker; deltas: Map<PoolWorker, LoadDelta> };

/**
 * Chooses where a newcomer to a call goes, or null when no worker has room. Fan-out rule: the
 * newcomer consumes everyone and everyone consumes the newcomer, so a join adds load to every
 * worker of the call, not only to the one it lands on; each candidate is costed on all of them:
 *
 * - its own worker: one consumer per other participant, one per participant of its router (they
 *   consume it), its producer, a pipe producer per producer of another router not yet piped
 *   here, one pipe consumer per other router;
 * - each other router's worker: one consumer per participant there, one pipe producer (the
 *   newcomer's), one pipe consumer per producer there not yet piped to the newcomer's router.
 *
 * First pass: the call's routers, then a new router on another worker, where the newcomer's
 * worker stays within `placementShare` of its budget and every other worker within its whole
 * budget. Second pass (nobody had that room): the same order against the whole budget only.
 */
export function placeNewcomer<R>(input: PlacementInput<R>): Placement<R> | null {
  const candidates: { router: R | null; worker: PoolWorker }[] = [
    ...input.routers.map((r) => ({ router: r.router, worker: r.worker })),
    ...input.otherWorkers.map((worker) => ({ router: null, worker })),
  ];
  for (const soft of [true, false]) {
    for (const { router, worker: home } of candidates) {
      const deltas = costOf(input, router, home);
      const fits = [...deltas].every(([worker, delta]) => worker.load.fits(delta, soft && worker === home ? worker.load.budget.placementShare : 1));
      if (fits) return { router, worker: home, deltas } as Placement<R>;
    }
  }
  return null;
}

/** The load a newcomer adds to each worker of the call when it lands on `target` (null: a new router) on `home`. */
function costOf<R>(input: PlacementInput<R>, target: R | null, home: PoolWorker): Map<PoolWorker, LoadDelta> {
  const deltas = new Map<PoolWorker, LoadDelta>();
  const add = (worker: PoolWorker, consumers: number, producers: number) => {
    const current = deltas.get(worker) ?? { consumers: 0, producers: 0 };
    deltas.set(worker, { consumers: current.consumers + consumers, producers: current.producers + producers });
  };
  const everyone = input.routers.reduce((sum, r) => sum + r.endpoints, 0);
  const neighbours = input.routers.find((r) => r.router === target)?.endpoints ?? 0;
  // The newcomer consumes everyone and produces once; the participants of its router consume it.
  add(home, everyone + neighbours, 1);
  for (const other of input.routers) {
    if (other.router === target || other.endpoints === 0) continue;
    const newPipes = target === null ? other.endpoints : Math.max(0, other.endpoints - input.pipedInto(other.router, target));
    // Here: the pipe consumer carrying the newcomer there, the pipe producers of what comes from there.
    add(home, 1, newPipes);
    // There: everyone consumes the newcomer's pipe producer; pipe consumers carry their producers here.
    add(other.worker, other.endpoints + newPipes, 1);
  }
  return deltas;
}
