import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MediaEndpoint } from '../../../src/media/MediaEndpoint.js';
import { sleep, useGateway, waitFor } from '../../helpers/gateway.js';
import { createGroupCall, joinRtp } from '../../helpers/rtpCall.js';
import { tokenFor } from '../../helpers/tokens.js';

/** What test/browser/hostileProducer.js puts on `window`. */
interface HostileWindow {
  hostile: {
    start(opts: { baseUrl: string; token: string; callId: string; userId: string }): Promise<string>;
    produceAgain(): Promise<string>;
    packetsSent(): Promise<number>;
    request(type: string, body: Record<string, unknown>): Promise<unknown>;
  };
}

/**
 * A locked WebRTC participant that produces again and again on its send transport (which the
 * page never does: mediasoup-client adds a new m-section each time, with its own MID and SSRC,
 * and the browser keeps sending on every one), one produce racing the lock itself. Real
 * Chromium, real DTLS-SRTP; the listener is a plain-RTP leg on 127.0.0.1 that counts every RTP
 * packet forwarded to it (Mallory is the only one who sends).
 */
describe('hostile WebRTC participant: producing again while locked', () => {
  const fixture = useGateway({ MUTEGATE_WEBRTC_RECONNECT_GRACE_MS: '500' });
  let browser: Browser;
  let bundle: string;

  beforeAll(async () => {
    const built = await build({
      entryPoints: [fileURLToPath(new URL('../../browser/hostileProducer.js', import.meta.url))],
      bundle: true,
      format: 'iife',
      target: ['chrome111'],
      write: false,
      logLevel: 'warning',
    });
    bundle = built.outputFiles[0]!.text;
    try {
      browser = await chromium.launch({
        executablePath: '/usr/bin/chromium',
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', '--disable-background-networking'],
      });
    } catch (err) {
      throw new Error(`cannot start /usr/bin/chromium (run "bash scripts/setup.sh --browser"): ${(err as Error).message}`);
    }
  });
  afterAll(async () => {
    await browser?.close();
  });

  const hostile = <T>(page: Page, fn: (h: HostileWindow['hostile'], arg: unknown) => Promise<T>, arg?: unknown) =>
    page.evaluate(
      // Serialized into the page: `fn` is rebuilt there from its source.
      ([source, a]) => (new Function(`return (${source})`)() as (h: unknown, arg: unknown) => Promise<T>)((globalThis as unknown as HostileWindow).hostile, a),
      [fn.toString(), arg] as const,
    );

  it('nothing of hers reaches the listener after the lock 200, whatever she produces, before or after it', async () => {
    const callId = await createGroupCall(fixture.api);
    const listener = await joinRtp(fixture.api, callId, { userId: 'listener' });
    const page = await browser.newPage();
    page.on('pageerror', (err) => console.error('[hostile page error]', err.message));
    // Any page of the gateway's origin will do (127.0.0.1 is a secure context: getUserMedia works).
    await page.goto(`${fixture.gateway.url}/healthz`);
    await page.addScriptTag({ content: bundle });
    const token = await tokenFor({ role: 'participant', subject: 'mallory', call: callId });
    const participantId = await hostile(page, (h, opts) => h.start(opts as Parameters<typeof h.start>[0]), {
      baseUrl: fixture.gateway.url,
      token,
      callId,
      userId: 'mallory',
    });

    // Unlocked, she is heard: the listener counts her packets (else the measurement sees nothing).
    await waitFor(() => listener.peer.rtpPacketsReceived >= 25, 10_000, "the listener receives Mallory's audio");

    // A produce sent together with the lock: whichever the gateway takes first, the lock's 200 holds.
    const racing = hostile(page, (h) => h.produceAgain());
    const lock = await fixture.api.post(`/communications/calls/${callId}/participants/${participantId}/lock`, {});
    expect(lock.status, JSON.stringify(lock.body)).toBe(200);
    await racing;
    // What the worker forwarded just before its pause may still be on its way (README: 100 ms).
    await sleep(300);
    const atLock = listener.peer.rtpPacketsReceived;
    const sentAtLock = await hostile(page, (h) => h.packetsSent());

    // Locked: new producers on the same send transport, and her own unmute, refused.
    for (let i = 0; i < 3; i++) await hostile(page, (h) => h.produceAgain());
    const unmute = await hostile(page, (h, id) => h.request('unmute', { callId: (id as string[])[0], participantId: (id as string[])[1] }).catch((err: { status: number; code: string }) => `${err.status} ${err.code}`), [
      callId,
      participantId,
    ]);
    expect(unmute).toBe('403 participantLocked');
    await sleep(2000);

    expect(await hostile(page, (h) => h.packetsSent()), 'Mallory keeps sending (on five producers now)').toBeGreaterThan(sentAtLock + 100);
    expect(listener.peer.rtpPacketsReceived - atLock, 'packets of Mallory forwarded after the lock').toBe(0);
    const live = fixture.gateway.service.getParticipant(callId, participantId);
    expect(live.isMuted).toBe(true);
    // The domain sees its media through EndpointMedia; the real gateway's is a MediaEndpoint.
    expect((live.media as unknown as MediaEndpoint | null)?.currentProducer?.paused).toBe(true);
    await page.close();
    listener.peer.close();
  }, 60_000);
});
