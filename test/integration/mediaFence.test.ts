import type { types } from 'mediasoup';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallRouter } from '../../src/media/CallRouter.js';
import type { MediaEndpoint } from '../../src/media/MediaEndpoint.js';
import { MediasoupMediaPlane } from '../../src/media/MediasoupMediaPlane.js';
import { WorkerPool } from '../../src/media/WorkerPool.js';

/** Whether the worker itself holds the endpoint's producer paused (not the Node-side flag). */
async function pausedInWorker(endpoint: MediaEndpoint): Promise<boolean> {
  const producer = endpoint.currentProducer as types.Producer;
  return (await producer.dump()).paused;
}

/**
 * The media fence (src/media/MediaFence.ts) against a real worker: while it is up every send
 * stream is paused whatever the domain asks, and when it comes down exactly the streams the
 * domain wants flowing flow, including those created, unmuted or muted while it stood, and one
 * whose creation was asked while it stood and answered after it came down.
 */
describe('media fence (real worker)', () => {
  let pool: WorkerPool;
  let plane: MediasoupMediaPlane;
  let nextSsrc = 0x4000;
  const join = (media: CallRouter, id: string, sendPaused: boolean) =>
    media.addRtpEndpoint(id, { payloadType: 100, ssrc: nextSsrc++, receive: { ip: '127.0.0.1', port: 9 } }, { sendPaused, receivePaused: false });

  beforeAll(async () => {
    pool = await WorkerPool.create(
      { numWorkers: 1, rtcMinPort: 40000, rtcMaxPort: 49999, logLevel: 'warn', budget: { consumers: 25_000, packetsPerSecond: 105_000, placementShare: 0.5 } },
      pino({ level: 'silent' }),
    );
    plane = new MediasoupMediaPlane(pool, { listenIp: '127.0.0.1', announcedIp: '127.0.0.1' });
  });
  afterAll(() => pool?.close());

  it('holds every stream while up, and lets flow exactly what the domain wants once lifted', async () => {
    const media = (await plane.openCall('fence-1')) as CallRouter;
    const talker = await join(media, 'talker', false);
    const muted = await join(media, 'muted', true);
    const unmutedLater = await join(media, 'unmuted-later', true);
    const mutedLater = await join(media, 'muted-later', false);
    expect(await pausedInWorker(talker)).toBe(false);

    await plane.raiseFence();
    expect(plane.fenced).toBe(true);
    for (const ep of [talker, muted, unmutedLater, mutedLater]) expect(await pausedInWorker(ep), ep.participantId).toBe(true);
    // While it stands: a newcomer starts paused, an unmute changes nothing in the worker, a mute acts.
    const newcomer = await join(media, 'newcomer', false);
    expect(await pausedInWorker(newcomer)).toBe(true);
    expect(await unmutedLater.resumeSend()).toEqual({ packetsDroppedWhilePaused: 0 });
    expect(await pausedInWorker(unmutedLater)).toBe(true);
    await mutedLater.pauseSend();

    await plane.liftFence();
    expect(plane.fenced).toBe(false);
    const flowing = async (ep: MediaEndpoint) => !(await pausedInWorker(ep));
    expect(await flowing(talker), 'talker').toBe(true);
    expect(await flowing(newcomer), 'newcomer').toBe(true);
    expect(await flowing(unmutedLater), 'unmuted while fenced').toBe(true);
    expect(await flowing(muted), 'muted').toBe(false);
    expect(await flowing(mutedLater), 'muted while fenced').toBe(false);
    media.close();
  });

  it('a stream asked for while the fence stood and created after it came down flows (its participant is not muted)', async () => {
    const media = (await plane.openCall('fence-2')) as CallRouter;
    // The lift happens right after the produce request is on the worker channel (paused: the fence is up).
    let liftOnNextProduce = false;
    const router = (media as unknown as { first: { router: types.Router } }).first.router;
    router.observer.on('newtransport', (transport: types.Transport) => {
      const produce = transport.produce.bind(transport);
      transport.produce = ((options: types.ProducerOptions) => {
        const created = produce(options);
        if (liftOnNextProduce) {
          liftOnNextProduce = false;
          void plane.liftFence();
        }
        return created;
      }) as typeof transport.produce;
    });
    await plane.raiseFence();
    liftOnNextProduce = true;
    const late = await join(media, 'late', false);
    expect(plane.fenced).toBe(false);
    await new Promise((r) => setTimeout(r, 100));
    expect(await pausedInWorker(late)).toBe(false);
    media.close();
  });
});
