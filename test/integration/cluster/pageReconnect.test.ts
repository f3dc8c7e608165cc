import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../../src/gateway.js';
import { apiClient, sleep, startTestGateway } from '../../helpers/gateway.js';
import { RedisServer } from '../../helpers/redisServer.js';
import { createGroupCall, joinRtp, type RtpParticipant } from '../../helpers/rtpCall.js';
import { tokenFor } from '../../helpers/tokens.js';

interface PageView {
  mutegate: { state: { joined: boolean; participantId: string }; stats(): Promise<{ outboundPacketsSent: number }> };
}

/**
 * The page when its server goes away and another takes its place (a node restarted on the same
 * address, the call's state in Redis): it keeps trying while nothing answers, joins again by
 * itself as the same identity once something does, and the participant it was is still muted,
 * in the roster and in the media (a listener hears nothing while the page keeps sending).
 */
describe('browser page: the server goes away and comes back', () => {
  let redis: RedisServer;
  const gateways: Gateway[] = [];
  let browser: Browser;
  const peers: RtpParticipant[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    try {
      browser = await chromium.launch({
        executablePath: '/usr/bin/chromium',
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', '--disable-background-networking', '--autoplay-policy=no-user-gesture-required'],
      });
    } catch (err) {
      throw new Error(`cannot start /usr/bin/chromium (run "bash scripts/setup.sh --test"): ${(err as Error).message}`);
    }
  }, 30_000);
  afterAll(async () => {
    for (const p of peers) p.peer.close();
    await browser?.close();
    for (const g of gateways) await g.close();
    await redis?.kill();
  });

  const startNode = async (port: string) => {
    const gateway = await startTestGateway({ MUTEGATE_CLUSTER_REDIS_URL: redis.url, MUTEGATE_HTTP_PORT: port, MUTEGATE_WEBRTC_RECONNECT_GRACE_MS: '500' });
    gateways.push(gateway);
    return gateway;
  };
  const joinedAs = (page: Page) => page.evaluate(() => (globalThis as unknown as PageView).mutegate.state.participantId);
  const sent = (page: Page) => page.evaluate(() => (globalThis as unknown as PageView).mutegate.stats().then((s) => s.outboundPacketsSent));

  it('keeps trying while nothing answers, joins again when a node is back, and is still muted there', async () => {
    const first = await startNode('0');
    const port = new URL(first.url).port;
    const callId = await createGroupCall(apiClient(first.url), { subject: 'restart' });
    const page = await browser.newPage();
    page.on('pageerror', (err) => console.error('[page error]', err.message));
    const token = await tokenFor({ role: 'participant', subject: 'pat', call: callId });
    const response = await page.goto(`${first.url}/?call=${callId}&name=Pat&user=pat&token=${token}&autojoin=1`);
    expect(response?.status(), 'the page (npm run build:web)').toBe(200);
    await page.waitForFunction(() => (globalThis as unknown as PageView).mutegate.state.joined, null, { timeout: 15_000 });
    const before = await joinedAs(page);
    expect((await apiClient(first.url).post(`/communications/calls/${callId}/participants/${before}/mute`, {})).status).toBe(200);
    await page.waitForSelector('#banner:not([hidden])');

    // The node goes away. The page tries after 1 s, finds nothing, and waits 2 s more.
    await first.close();
    // (A reload while nothing answers would leave Chromium's error page, which tries nothing more.)
    await page.waitForFunction("/the server does not answer; reconnecting in 2 s/.test(document.querySelector('#status')?.textContent ?? '')", null, { timeout: 10_000 });

    // A node on the same address and Redis: the call is taken over there when the page asks for it.
    const second = await startNode(port);
    await page.waitForFunction(() => (globalThis as unknown as PageView).mutegate.state.joined, null, { timeout: 20_000 });
    const after = await joinedAs(page);
    expect(second.service.hasCall(callId), 'the call is on the new node').toBe(true);
    expect(second.service.getCall(callId).participants.get(after)?.isMuted, 'Pat is still muted on the new node').toBe(true);
    await page.waitForSelector('#banner:not([hidden])');
    expect(await page.textContent('#banner')).toContain('muted by the server');

    // And in the media: a listener hears nothing of Pat, who keeps sending.
    const listener = await joinRtp(apiClient(second.url), callId, { userId: 'listener' });
    peers.push(listener);
    await sleep(500);
    const [heard, sentBefore] = [listener.peer.rtpPacketsReceived, await sent(page)];
    await sleep(2000);
    expect((await sent(page)) - sentBefore, 'Pat keeps sending').toBeGreaterThan(30);
    expect(listener.peer.rtpPacketsReceived - heard, 'the listener hears nothing of Pat').toBe(0);
  }, 60_000);

  it('stops trying when the call is gone (the new node answers 404), and says so', async () => {
    const node = await startNode('0');
    const callId = await createGroupCall(apiClient(node.url), { subject: 'ends' });
    const page = await browser.newPage();
    const token = await tokenFor({ role: 'participant', subject: 'quinn', call: callId });
    await page.goto(`${node.url}/?call=${callId}&name=Quinn&user=quinn&token=${token}&autojoin=1`);
    await page.waitForFunction(() => (globalThis as unknown as PageView).mutegate.state.joined, null, { timeout: 15_000 });
    const port = new URL(node.url).port;
    // The call ends while the node is away (a fresh Redis would do the same): nothing to rejoin.
    await node.close();
    await redis.kill();
    redis = await RedisServer.start();
    const next = await startTestGateway({ MUTEGATE_CLUSTER_REDIS_URL: redis.url, MUTEGATE_HTTP_PORT: port });
    gateways.push(next);
    await page.waitForFunction("/^Could not join: /.test(document.querySelector('#status')?.textContent ?? '')", null, { timeout: 20_000 });
    const status = await page.textContent('#status');
    expect(status).toMatch(/not found/i);
    await sleep(3000);
    expect(await page.textContent('#status'), 'no further attempt').toBe(status);
  }, 60_000);
});
