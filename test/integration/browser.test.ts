import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, useGateway, waitFor } from '../helpers/gateway.js';
import { createGroupCall } from '../helpers/rtpCall.js';
import { tokenFor } from '../helpers/tokens.js';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

interface PageStats {
  outboundPacketsSent: number;
  inboundPacketsReceived: Record<string, number>;
}

/**
 * Two real browsers (Debian chromium, fake microphone) in one call through the gateway's page.
 * A server mute must silence A at B while A's browser keeps sending.
 */
describe('WebRTC participants in headless Chromium', () => {
  const fixture = useGateway({ MUTEGATE_WEBRTC_RECONNECT_GRACE_MS: '500' });
  let browser: Browser;

  beforeAll(async () => {
    try {
      browser = await chromium.launch({
        executablePath: '/usr/bin/chromium',
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--use-fake-ui-for-media-stream',
          '--use-fake-device-for-media-stream',
          '--disable-background-networking',
          '--autoplay-policy=no-user-gesture-required',
        ],
      });
    } catch (err) {
      // No silent skip: a missing or broken browser fails this suite with the reason.
      throw new Error(`cannot start /usr/bin/chromium (run "bash scripts/setup.sh --browser"): ${(err as Error).message}`);
    }
    mkdirSync(ARTIFACTS, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
  });

  async function openPage(callId: string, name: string, role: 'participant' | 'moderator' = 'participant'): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 720, height: 560 } });
    page.on('pageerror', (err) => console.error(`[${name} page error]`, err.message));
    const token = await tokenFor(
      role === 'participant' ? { role, subject: name.toLowerCase(), call: callId } : { role, subject: name.toLowerCase(), calls: [callId] },
    );
    const response = await page.goto(`${fixture.gateway.url}/?call=${callId}&name=${name}&user=${name.toLowerCase()}&token=${token}&autojoin=1`);
    // Without the page bundle (npm run build:web) there is nothing to test: say so, not a timeout.
    expect(response?.status(), `GET / answered ${response?.status()}: is the page built (npm run build:web)?`).toBe(200);
    await page.waitForFunction(() => (globalThis as unknown as { mutegate: { state: { joined: boolean } } }).mutegate.state.joined, null, { timeout: 15_000 });
    // The token is taken out of the address at once: not in the address bar, nor in the history.
    expect(page.url()).not.toContain(token);
    expect(page.url()).not.toContain('token=');
    return page;
  }

  const stats = (page: Page) => page.evaluate(() => (globalThis as unknown as { mutegate: { stats(): Promise<PageStats> } }).mutegate.stats());
  const participantIdOf = (page: Page) => page.evaluate(() => (globalThis as unknown as { mutegate: { state: { participantId: string } } }).mutegate.state.participantId);

  it('forwards A to B, and a server mute stops it at B while A keeps sending; unmute restores it', async () => {
    const callId = await createGroupCall(fixture.api, { subject: 'browser call' });
    const pageA = await openPage(callId, 'Alice');
    const pageB = await openPage(callId, 'Bob', 'moderator');
    const a = await participantIdOf(pageA);

    // B receives A's audio, and the count grows.
    await waitFor(() => true, 0);
    let before = (await stats(pageB)).inboundPacketsReceived[a] ?? 0;
    for (let i = 0; i < 50 && before < 20; i++) {
      await sleep(200);
      before = (await stats(pageB)).inboundPacketsReceived[a] ?? 0;
    }
    expect(before, 'B receives A').toBeGreaterThanOrEqual(20);
    await sleep(1000);
    expect((await stats(pageB)).inboundPacketsReceived[a]).toBeGreaterThan(before + 20);

    // The roster is the same Graph participant list as over HTTP.
    const roster = await fixture.api.get(`/communications/calls/${callId}/participants`);
    expect(roster.body.value.map((p: { media: { kind: string } }) => p.media.kind)).toEqual(['webrtc', 'webrtc']);

    // Server-mute A over the Graph HTTP API.
    expect((await fixture.api.post(`/communications/calls/${callId}/participants/${a}/mute`, { clientContext: 'browser-test' })).status).toBe(200);
    await sleep(1000); // "within 1 s": anything forwarded before the mute has landed by now
    const mutedA1 = await stats(pageA);
    const mutedB1 = await stats(pageB);
    await sleep(1500);
    const mutedA2 = await stats(pageA);
    const mutedB2 = await stats(pageB);
    expect(mutedA2.outboundPacketsSent, 'A keeps sending while muted').toBeGreaterThan(mutedA1.outboundPacketsSent + 30);
    expect(mutedB2.inboundPacketsReceived[a], 'B receives nothing from A while A is muted').toBe(mutedB1.inboundPacketsReceived[a]);
    await pageA.waitForSelector('#banner:not([hidden])');
    expect(await pageA.textContent('#banner')).toContain('muted by the server');
    await pageB.waitForSelector(`#roster li.muted[data-participant-id="${a}"]`);
    // A's fake microphone keeps sending while muted: the moderator sees that A is talking while muted.
    await pageB.waitForSelector(`#roster li.talking-while-muted[data-participant-id="${a}"]`, { timeout: 5000 });
    await pageB.screenshot({ path: `${ARTIFACTS}browser-B-sees-A-talking-while-muted.png` });
    await pageA.screenshot({ path: `${ARTIFACTS}browser-A-muted-by-server.png` });
    await pageB.screenshot({ path: `${ARTIFACTS}browser-B-sees-A-muted.png` });

    // Unmute: B receives again.
    expect((await fixture.api.post(`/communications/calls/${callId}/participants/${a}/unmute`, {})).status).toBe(200);
    const atUnmute = (await stats(pageB)).inboundPacketsReceived[a] ?? 0;
    let after = atUnmute;
    for (let i = 0; i < 25 && after < atUnmute + 20; i++) {
      await sleep(200);
      after = (await stats(pageB)).inboundPacketsReceived[a] ?? 0;
    }
    expect(after, 'B receives A again after unmute').toBeGreaterThanOrEqual(atUnmute + 20);
    await pageA.waitForSelector('#banner', { state: 'hidden' });
    await pageA.screenshot({ path: `${ARTIFACTS}browser-A-unmuted.png` });

    // B mutes A with the button on its page (through the server), and A sees it.
    await pageB.click(`#roster li[data-participant-id="${a}"] button`);
    await pageA.waitForSelector('#banner:not([hidden])');
    expect((await fixture.api.get(`/communications/calls/${callId}/participants/${a}`)).body.isMuted).toBe(true);

    await pageA.close();
    await pageB.close();
  });

  it("keeps a moderator's unmute request in view until acted on", async () => {
    const callId = await createGroupCall(fixture.api, { subject: 'ask to unmute' });
    const pageA = await openPage(callId, 'Erin');
    const erin = await participantIdOf(pageA);
    const participant = `/communications/calls/${callId}/participants/${erin}`;
    expect((await fixture.api.post(`${participant}/mute`, {})).status).toBe(200);
    await pageA.waitForFunction(`document.querySelector("#banner")?.textContent?.includes("muted by the server")`);

    expect((await fixture.api.post(`${participant}/requestUnmute`, {})).status).toBe(200);
    await pageA.waitForFunction(`document.querySelector("#banner")?.textContent?.includes("asks you to unmute")`);
    // Other roster changes (someone joins) redraw the page: the request stays.
    const pageB = await openPage(callId, 'Frank');
    const frank = await participantIdOf(pageB);
    await pageA.waitForSelector(`#roster li[data-participant-id="${frank}"]`);
    expect(await pageA.textContent('#banner')).toContain('asks you to unmute');
    // "Stay muted" dismisses it; Erin is still muted by the server.
    await pageA.click('#dismiss');
    expect(await pageA.textContent('#banner')).toContain('muted by the server');
    // Asked again, she unmutes: the banner goes, and the server has her unmuted.
    expect((await fixture.api.post(`${participant}/requestUnmute`, {})).status).toBe(200);
    await pageA.waitForFunction(`document.querySelector("#banner")?.textContent?.includes("asks you to unmute")`);
    await pageA.click('#self-mute');
    await pageA.waitForSelector('#banner', { state: 'hidden' });
    expect((await fixture.api.get(participant)).body.isMuted).toBe(false);
    await pageA.close();
    await pageB.close();
  });

  it('joins again by itself when its connection drops, still muted, the token still out of the address', async () => {
    const callId = await createGroupCall(fixture.api, { subject: 'dropped connection' });
    const page = await openPage(callId, 'Gina');
    const first = await participantIdOf(page);
    expect((await fixture.api.post(`/communications/calls/${callId}/participants/${first}/mute`, {})).status).toBe(200);
    await page.evaluate(() => (globalThis as unknown as { mutegate: { dropConnection(): void } }).mutegate.dropConnection());
    // It reloads after a second and joins as the same identity: a new participant, muted.
    await page.waitForFunction(
      (old) => {
        const s = (globalThis as unknown as { mutegate?: { state: { joined: boolean; participantId: string } } }).mutegate?.state;
        return Boolean(s?.joined && s.participantId && s.participantId !== old);
      },
      first,
      { timeout: 20_000 },
    );
    const second = await participantIdOf(page);
    expect((await fixture.api.get(`/communications/calls/${callId}/participants/${second}`)).body.isMuted).toBe(true);
    await page.waitForSelector('#banner:not([hidden])');
    expect(page.url()).not.toContain('token=');
    await page.close();
  });

  it('removes a browser that went away after the grace period, and keeps its mute when it comes back', async () => {
    const callId = await createGroupCall(fixture.api, { subject: 'reconnect call' });
    const pageA = await openPage(callId, 'Carol');
    const pageB = await openPage(callId, 'Dave');
    const carol = await participantIdOf(pageA);
    expect((await fixture.api.post(`/communications/calls/${callId}/participants/${carol}/mute`, {})).status).toBe(200);

    await pageA.close(); // the socket closes; the participant stays for the grace period (500 ms here)
    await sleep(150);
    expect((await fixture.api.get(`/communications/calls/${callId}/participants/${carol}`)).status).toBe(200);
    await waitFor(() => fixture.gateway.service.getCall(callId).participants.size === 1, 5000, 'Carol removed after the grace period');
    await pageB.waitForFunction(`!document.querySelector('#roster li[data-participant-id="${carol}"]')`);

    // Carol comes back: still muted, silent at Dave from her first packet.
    const again = await openPage(callId, 'Carol');
    const carol2 = await participantIdOf(again);
    expect(carol2).not.toBe(carol);
    expect((await fixture.api.get(`/communications/calls/${callId}/participants/${carol2}`)).body.isMuted).toBe(true);
    await again.waitForSelector('#banner:not([hidden])');
    await sleep(2000);
    const carolStats = await stats(again);
    expect(carolStats.outboundPacketsSent).toBeGreaterThan(50);
    expect((await stats(pageB)).inboundPacketsReceived[carol2] ?? 0).toBe(0);
    await again.close();
    await pageB.close();
  });
});
