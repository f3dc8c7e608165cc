import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, sleep } from '../../helpers/gateway.js';
import { createGroupCall } from '../../helpers/rtpCall.js';
import { tokenFor } from '../../helpers/tokens.js';
import { useTwoNodes } from '../../helpers/cluster.js';

interface PageStats {
  outboundPacketsSent: number;
  inboundPacketsReceived: Record<string, number>;
}

/**
 * A real browser (Debian chromium, fake microphone) on node B's page, in a call hosted by node A:
 * its signaling goes through B (relayed to A), its media to A's worker. A listener's browser on A
 * hears it; a mute sent to B stops it there while it keeps sending, and its page shows it muted
 * (the roster change relayed from A to B).
 */
describe('cluster: a browser on node B in a call on node A', () => {
  const cluster = useTwoNodes({ MUTEGATE_WEBRTC_RECONNECT_GRACE_MS: '500' });
  let browser: Browser;

  beforeAll(async () => {
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
    await browser?.close();
  });

  async function openPage(baseUrl: string, callId: string, name: string): Promise<Page> {
    const page = await browser.newPage();
    page.on('pageerror', (err) => console.error(`[${name} page error]`, err.message));
    const token = await tokenFor({ role: 'participant', subject: name.toLowerCase(), call: callId });
    const response = await page.goto(`${baseUrl}/?call=${callId}&name=${name}&user=${name.toLowerCase()}&token=${token}&autojoin=1`);
    expect(response?.status(), 'the page (npm run build:web)').toBe(200);
    await page.waitForFunction(() => (globalThis as unknown as { mutegate: { state: { joined: boolean } } }).mutegate.state.joined, null, { timeout: 15_000 });
    return page;
  }
  const stats = (page: Page) => page.evaluate(() => (globalThis as unknown as { mutegate: { stats(): Promise<PageStats> } }).mutegate.stats());
  const participantIdOf = (page: Page) => page.evaluate(() => (globalThis as unknown as { mutegate: { state: { participantId: string } } }).mutegate.state.participantId);

  async function received(page: Page, from: string, atLeast: number): Promise<number> {
    let count = (await stats(page)).inboundPacketsReceived[from] ?? 0;
    for (let i = 0; i < 50 && count < atLeast; i++) {
      await sleep(200);
      count = (await stats(page)).inboundPacketsReceived[from] ?? 0;
    }
    return count;
  }

  it('forwards Alice (page on B) to Bob (page on A); a mute sent to B stops her at Bob while she keeps sending', async () => {
    const callId = await createGroupCall(apiClient(cluster.nodeA.url), { subject: 'across nodes' });
    expect(cluster.nodeA.service.hasCall(callId)).toBe(true);
    const alicePage = await openPage(cluster.nodeB.url, callId, 'Alice');
    const bobPage = await openPage(cluster.nodeA.url, callId, 'Bob');
    const alice = await participantIdOf(alicePage);
    expect(cluster.nodeA.service.getCall(callId).participants.has(alice), 'Alice is a participant of A').toBe(true);
    expect(await received(bobPage, alice, 20), 'Bob receives Alice').toBeGreaterThanOrEqual(20);

    const mute = await apiClient(cluster.nodeB.url).post(`/communications/calls/${callId}/participants/${alice}/mute`, {});
    expect(mute.status, JSON.stringify(mute.body)).toBe(200);
    await sleep(1000); // anything forwarded before the mute has landed by now
    const [alice1, bob1] = [await stats(alicePage), await stats(bobPage)];
    await sleep(1500);
    const [alice2, bob2] = [await stats(alicePage), await stats(bobPage)];
    expect(alice2.outboundPacketsSent, 'Alice keeps sending while muted').toBeGreaterThan(alice1.outboundPacketsSent + 30);
    expect(bob2.inboundPacketsReceived[alice], 'Bob receives nothing from Alice while she is muted').toBe(bob1.inboundPacketsReceived[alice]);
    // Her page, on B, learns it from A's roster change.
    await alicePage.waitForSelector('#banner:not([hidden])');
    expect(await alicePage.textContent('#banner')).toContain('muted by the server');

    expect((await apiClient(cluster.nodeB.url).post(`/communications/calls/${callId}/participants/${alice}/unmute`, {})).status).toBe(200);
    const atUnmute = bob2.inboundPacketsReceived[alice] ?? 0;
    expect(await received(bobPage, alice, atUnmute + 20), 'Bob receives Alice again').toBeGreaterThanOrEqual(atUnmute + 20);
  }, 60_000);
});
