import { describe, expect, it } from 'vitest';
import { placeNewcomer, type RouterOccupancy } from '../../src/media/Placement.js';
import { WorkerLoad, type WorkerBudget } from '../../src/media/WorkerLoad.js';
import type { PoolWorker } from '../../src/media/WorkerPool.js';

const budget = (consumers: number, placementShare = 1): WorkerBudget => ({ consumers, packetsPerSecond: 1_000_000, placementShare });
const worker = (pid: number, b: WorkerBudget, consumers = 0): PoolWorker => {
  const load = new WorkerLoad(b);
  if (consumers) load.reserve({ consumers, producers: 0 });
  return { pid, load };
};

describe('placeNewcomer (admission control)', () => {
  it('costs a join on every worker of the call: consumers both ways, pipes once per producer and router', () => {
    const a = worker(1, budget(100));
    const b = worker(2, budget(100));
    const routers: RouterOccupancy<string>[] = [
      { router: 'A', worker: a, endpoints: 3 },
      { router: 'B', worker: b, endpoints: 2 },
    ];
    // Two of A's producers are piped into B already.
    const placement = placeNewcomer({ routers, otherWorkers: [], pipedInto: (from, into) => (from === 'A' && into === 'B' ? 2 : 0) });
    expect(placement?.router).toBe('A');
    // On A: it consumes 5, A's 3 consume it, its producer, B's 2 producers piped in, 1 pipe consumer to B.
    expect(placement?.deltas.get(a)).toEqual({ consumers: 5 + 3 + 1, producers: 1 + 2 });
    // On B: B's 2 consume its pipe copy, B's 2 producers get pipe consumers to A; its pipe producer.
    expect(placement?.deltas.get(b)).toEqual({ consumers: 2 + 2, producers: 1 });
  });

  it("goes to a new router on another worker when the call's worker is past its placement share", () => {
    const a = worker(1, budget(40, 0.1), 2);
    const b = worker(2, budget(40, 0.1));
    const placement = placeNewcomer({ routers: [{ router: 'A', worker: a, endpoints: 2 }], otherWorkers: [b], pipedInto: () => 0 });
    expect(placement).toMatchObject({ router: null, worker: b });
    expect(placement?.deltas.get(b)).toEqual({ consumers: 2 + 1, producers: 1 + 2 });
    expect(placement?.deltas.get(a)).toEqual({ consumers: 2 + 2, producers: 1 });
  });

  it('uses the whole budget when no worker is under its placement share', () => {
    const a = worker(1, budget(10, 0.1), 2);
    const placement = placeNewcomer({ routers: [{ router: 'A', worker: a, endpoints: 2 }], otherWorkers: [], pipedInto: () => 0 });
    expect(placement).toMatchObject({ router: 'A', worker: a });
  });

  it('refuses when every placement would take some worker of the call past its budget', () => {
    const a = worker(1, budget(6), 6);
    const b = worker(2, budget(6));
    // Wherever the fourth goes, A gets 6 more consumers.
    expect(placeNewcomer({ routers: [{ router: 'A', worker: a, endpoints: 3 }], otherWorkers: [b], pipedInto: () => 0 })).toBeNull();
  });

  it('counts reservations: two joins deciding at once cannot both take the last room', () => {
    const a = worker(1, budget(3));
    const first = placeNewcomer({ routers: [{ router: 'A', worker: a, endpoints: 1 }], otherWorkers: [], pipedInto: () => 0 });
    expect(first).not.toBeNull();
    const release = a.load.reserve(first?.deltas.get(a) ?? { consumers: 0, producers: 0 });
    expect(placeNewcomer({ routers: [{ router: 'A', worker: a, endpoints: 1 }], otherWorkers: [], pipedInto: () => 0 })).toBeNull();
    release();
    expect(placeNewcomer({ routers: [{ router: 'A', worker: a, endpoints: 1 }], otherWorkers: [], pipedInto: () => 0 })).not.toBeNull();
  });
});
