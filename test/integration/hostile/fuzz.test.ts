import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientMessage } from '../../../src/proto/contract.js';
import { type ApiResponse, sleep, useGateway, waitFor } from '../../helpers/gateway.js';
import { RosterClient, type AnyMessage } from '../../helpers/rosterClient.js';
import { createGroupCall, joinRtp, type RtpParticipant } from '../../helpers/rtpCall.js';
import { userToken } from '../../helpers/tokens.js';

/**
 * Hostile bodies (issue 9, point 4): nesting thousands of levels deep in every object a request
 * accepts, strings near and over the body limit, lone surrogates, NUL, bidi overrides and other
 * odd Unicode in every string field, wrong types; hand-picked and seeded-random, over HTTP
 * (Graph and Genesys) and WebSocket frames (JSON and protobuf). Every one is answered 4xx (413
 * over the limit), never 5xx; a refused request stores nothing; whatever is accepted is stored
 * as sane text; and afterwards the call list, the participant list and new JSON and protobuf
 * roster subscriptions still work and show nothing of the refused requests.
 */

const BODY_LIMIT = 65_536;
const DEEP = 8000;

/** Raw JSON text of hostile values: deep ones are built as text (JSON.stringify itself would overflow). */
interface Hostile {
  name: string;
  json: string;
  kind: 'deep' | 'over' | 'huge' | 'badText' | 'oddText' | 'type';
}

const deepObject = (depth: number) => '{"a":'.repeat(depth) + '"bottom"' + '}'.repeat(depth);
const deepArray = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

const HOSTILE: Hostile[] = [
  { name: `object nested ${DEEP} deep`, json: deepObject(DEEP), kind: 'deep' },
  { name: `array nested ${DEEP} deep`, json: deepArray(DEEP), kind: 'deep' },
  { name: 'object nested 40 deep', json: deepObject(40), kind: 'deep' },
  { name: 'string near the body limit', json: JSON.stringify('x'.repeat(BODY_LIMIT - 3000)), kind: 'huge' },
  { name: 'string over the body limit', json: JSON.stringify('x'.repeat(BODY_LIMIT + 10)), kind: 'over' },
  { name: 'lone high surrogate', json: '"fz\\ud800"', kind: 'badText' },
  { name: 'lone low surrogate', json: '"\\udc00fz"', kind: 'badText' },
  { name: 'NUL', json: '"a\\u0000b"', kind: 'badText' },
  { name: 'RTL override', json: '"user\\u202etxt.exe"', kind: 'badText' },
  { name: 'bidi isolate', json: '"a\\u2066b"', kind: 'badText' },
  { name: 'C1 control', json: '"x\\u0085"', kind: 'badText' },
  { name: 'newline', json: '"two\\nlines"', kind: 'badText' },
  { name: 'terminal escape', json: '"\\u001b[31mred"', kind: 'badText' },
  { name: 'line separator', json: '"a\\u2028b"', kind: 'badText' },
  { name: 'emoji, ZWJ, flags, combining', json: JSON.stringify('👩‍💻 e\u0301 🇺🇳'), kind: 'oddText' },
  { name: 'zero-width and BOM', json: JSON.stringify('\u200bzw\ufeff'), kind: 'oddText' },
  { name: 'right-to-left script', json: JSON.stringify('مرحبا שלום'), kind: 'oddText' },
  { name: 'number', json: '42', kind: 'type' },
  { name: 'negative number', json: '-1', kind: 'type' },
  { name: 'fraction', json: '1.5', kind: 'type' },
  { name: 'number out of range', json: '1e309', kind: 'type' },
  { name: 'boolean', json: 'true', kind: 'type' },
  { name: 'null', json: 'null', kind: 'type' },
  { name: 'empty array', json: '[]', kind: 'type' },
  { name: 'empty object', json: '{}', kind: 'type' },
  { name: 'numeric string', json: '"5"', kind: 'type' },
  { name: 'empty string', json: '""', kind: 'type' },
];

type Path = (string | number)[];

/** A slot of a request body; `stored` slots hold text the gateway keeps (unsafe text there must be refused). */
interface Slot {
  path: Path;
  stored?: boolean;
}

const PLACEHOLDER = '@@hostile@@';

/** The body as JSON text with `json` at `path` (intermediate objects created as needed). */
function withHostile(base: unknown, path: Path, json: string): string {
  const copy = structuredClone(base) as Record<string | number, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string | number, unknown>;
  }
  node[path.at(-1) as string | number] = PLACEHOLDER;
  return JSON.stringify(copy).replace(JSON.stringify(PLACEHOLDER), () => json);
}

const UNSAFE = /[\p{Cc}\p{Cs}\u2028\u2029\u202A-\u202E\u2066-\u2069]/u;

/** Every string in an accepted resource is well-formed Unicode without control or bidi-override characters. */
function insaneStrings(value: unknown, where = ''): string[] {
  if (typeof value === 'string') return value.isWellFormed() && !UNSAFE.test(value) ? [] : [`${where}: ${JSON.stringify(value)}`];
  if (Array.isArray(value)) return value.flatMap((v, i) => insaneStrings(v, `${where}[${i}]`));
  if (typeof value === 'object' && value !== null) return Object.entries(value).flatMap(([k, v]) => insaneStrings(v, `${where}.${k}`));
  return [];
}

/** mulberry32: a small seeded PRNG, so that a failing random case can be replayed (FUZZ_SEED). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('hostile bodies (fuzz): 4xx never 5xx, nothing stored, everything still works (real gateway)', () => {
  const fixture = useGateway({ MUTEGATE_HTTP_BODY_LIMIT_BYTES: String(BODY_LIMIT), MUTEGATE_WS_MAX_FRAME_BYTES: String(BODY_LIMIT) });
  let callId: string;
  let alice: RtpParticipant;
  let bob: RtpParticipant;
  let jsonWatcher: RosterClient;
  let protoWatcher: RosterClient;
  let ws: RosterClient;
  let wsSubscriber: RosterClient;
  let wsProto: RosterClient;
  const clients: RosterClient[] = [];
  /** Tags of requests that were refused / accepted: each request carries its own in its valid parts. */
  const refused: string[] = [];
  const accepted: string[] = [];
  let nextTag = 1;
  let nextPort = 46_000;

  beforeAll(async () => {
    callId = await createGroupCall(fixture.api);
    alice = await joinRtp(fixture.api, callId, { userId: 'alice' });
    bob = await joinRtp(fixture.api, callId, { userId: 'bob' });
    // alice stays muted throughout: accepted mutes change nothing, so the roster only moves on joins.
    expect((await fixture.api.post(`/communications/calls/${callId}/participants/${alice.id}/mute`, {})).status).toBe(200);
    jsonWatcher = await connect('json');
    protoWatcher = await connect('proto');
    await jsonWatcher.answer(jsonWatcher.request({ type: 'subscribe', callId }));
    await protoWatcher.answer(protoWatcher.request({ type: 'subscribe', callId }));
    ws = await connect('json');
    wsSubscriber = await connect('json');
    wsProto = await connect('proto');
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    for (const p of [alice, bob]) p?.peer.close();
  });

  async function connect(encoding: 'json' | 'proto'): Promise<RosterClient> {
    const c = await RosterClient.connect(fixture.gateway.url, encoding);
    clients.push(c);
    return c;
  }

  const tag = () => `fz${nextTag++}x`;

  /** Records the request's outcome; removes what an accepted one created so the call stays comparable. */
  async function outcome(t: string, status: number, what: string, created?: () => Promise<void>): Promise<void> {
    expect(status, `${what}: answered ${status}`).toBeLessThan(500);
    expect(status, what).toBeGreaterThanOrEqual(200);
    if (status >= 400) refused.push(t);
    else {
      accepted.push(t);
      await created?.();
    }
  }

  /** One HTTP request with a hostile value in one slot; checks the answer by the value's kind. */
  async function httpCase(
    name: string,
    send: (body: string) => Promise<ApiResponse>,
    base: (t: string) => unknown,
    slot: Slot,
    hostile: Hostile,
    cleanup: (res: ApiResponse) => Promise<void> = async () => undefined,
    { checkStored = true }: { checkStored?: boolean } = {},
  ): Promise<void> {
    const t = tag();
    const what = `${name} ${JSON.stringify(slot.path)} = ${hostile.name}`;
    const res = await send(withHostile(base(t), slot.path, hostile.json));
    if (hostile.kind === 'over') expect(res.status, what).toBe(413);
    if (hostile.kind === 'deep') expect(res.status, what).toBe(400);
    if (slot.stored && (hostile.kind === 'badText' || hostile.kind === 'huge')) expect(res.status, what).toBe(400);
    if (res.status >= 400 && res.body?.error) expect(res.body.error.innerError['request-id'], what).toEqual(expect.any(String));
    if (res.status < 300 && checkStored) expect(insaneStrings(res.body), what).toEqual([]);
    await outcome(t, res.status, what, () => cleanup(res));
  }

  // ---- request templates -------------------------------------------------------------------

  const callBody = (t: string) => ({
    subject: `subject ${t}`,
    tenantId: `tenant-${t}`,
    source: { identity: { application: { id: `app-${t}`, displayName: `App ${t}` } } },
    targets: [{ identity: { user: { id: `t1-${t}` } } }, { identity: { user: { id: `t2-${t}` } } }],
    meetingInfo: { joinWebUrl: `https://meet.test/${t}` },
    requestedModalities: ['audio'],
  });
  const callSlots: Slot[] = [
    { path: ['subject'], stored: true },
    { path: ['tenantId'], stored: true },
    { path: ['callbackUri'], stored: true },
    { path: ['source'] },
    { path: ['source', 'identity'] },
    { path: ['source', 'identity', 'application'] },
    { path: ['source', 'identity', 'application', 'id'], stored: true },
    { path: ['source', 'identity', 'application', 'displayName'], stored: true },
    { path: ['source', 'identity', 'application', 'tenantId'], stored: true },
    { path: ['source', 'identity', '@odata.type'], stored: true },
    { path: ['source', 'extra'] },
    { path: ['targets'] },
    { path: ['targets', 0] },
    { path: ['targets', 1, 'identity'] },
    { path: ['targets', 0, 'identity', 'user', 'displayName'], stored: true },
    { path: ['targets', 0, 'identity', 'user', 'extra'], stored: true },
    { path: ['meetingInfo'] },
    { path: ['meetingInfo', 'organizer'] },
    { path: ['chatInfo'] },
    { path: ['muteOnEntry'] },
    { path: ['requestedModalities'] },
    { path: ['media'] },
    { path: ['extra'] },
  ];
  const createCall = (body: string) => fixture.api.post('/communications/calls', body);
  const deleteCreatedCall = async (res: ApiResponse) => {
    expect((await fixture.api.delete(`/communications/calls/${res.body.id}`)).status).toBe(204);
  };

  const joinBody = (t: string) => ({
    '@odata.type': '#microsoft.graph.invitationParticipantInfo',
    info: { identity: { user: { id: `u-${t}`, displayName: `User ${t}` } } },
    media: { kind: 'rtp', payloadType: 100, ssrc: 70_000 + nextTag, receive: { ip: '127.0.0.1', port: nextPort++ } },
  });
  const joinSlots: Slot[] = [
    { path: ['info'] },
    { path: ['info', 'identity'] },
    { path: ['info', 'identity', 'user'] },
    { path: ['info', 'identity', 'user', 'id'], stored: true },
    { path: ['info', 'identity', 'user', 'displayName'], stored: true },
    { path: ['info', 'identity', 'user', 'identityProvider'], stored: true },
    { path: ['info', 'identity', 'user', 'extra'], stored: true },
    { path: ['info', 'identity', '@odata.type'], stored: true },
    { path: ['info', 'identity', 'extra'], stored: true },
    { path: ['info', 'extra'] },
    { path: ['media'] },
    { path: ['media', 'ssrc'] },
    { path: ['media', 'payloadType'] },
    { path: ['media', 'receive'] },
    { path: ['media', 'receive', 'ip'], stored: true },
    { path: ['media', 'receive', 'port'] },
    { path: ['media', 'srtp'] },
    { path: ['extra'] },
  ];
  const join = (body: string) => fixture.api.post(`/communications/calls/${callId}/participants`, body);
  const removeJoined = async (res: ApiResponse) => {
    expect((await fixture.api.delete(`/communications/calls/${callId}/participants/${res.body.id}`)).status).toBe(204);
  };

  const patchBody = () => ({ media: { payloadType: 100, ssrc: bob.ssrc } });
  const patchSlots: Slot[] = [{ path: ['media'] }, { path: ['media', 'ssrc'] }, { path: ['media', 'payloadType'] }, { path: ['extra'] }];
  const patchParticipant = (body: string) => fixture.api.request('PATCH', `/communications/calls/${callId}/participants/${bob.id}`, body);

  const patchCall = (body: string) => fixture.api.request('PATCH', `/communications/calls/${callId}`, body);
  const mute = (body: string) => fixture.api.post(`/communications/calls/${callId}/participants/${alice.id}/mute`, body);

  let genesysToken: string;
  const genesys = (body: string) =>
    fixture.api.post(`/api/v2/me/calls/${callId}`, body, { headers: { authorization: `Bearer ${genesysToken}` } });

  // ---- WebSocket frames ---------------------------------------------------------------------

  /** Roster changes and media offers that a connection gets besides answers. */
  const unsolicited = (m: AnyMessage): boolean =>
    m['@mutegate.kind'] === 'delta' || Boolean(m.delta || m.consumer || m.consumerClosed || m.reconnect) || ['newConsumer', 'consumerClosed', 'reconnect'].includes(m.type);

  /** Sends a raw frame and returns the next answer on the connection. */
  async function frame(c: RosterClient, data: string | Uint8Array): Promise<AnyMessage> {
    const before = c.messages.length;
    const answer = () => c.messages.slice(before).find((m) => !unsolicited(m));
    c.ws.send(data);
    await waitFor(() => answer() !== undefined || c.closeCode !== null, 5000, 'an answer to a frame');
    return answer();
  }

  /** Status of a JSON or protobuf answer: 200 for a result or snapshot, the error's status otherwise. */
  const frameStatus = (m: AnyMessage): number =>
    m?.type === 'error' ? m.status : m?.error ? m.error.status : m?.type === 'response' || m?.response || m?.snapshot || m?.['@mutegate.kind'] === 'snapshot' ? 200 : 0;
  const joinedId = (m: AnyMessage): string | undefined => m?.body?.participantId ?? (m?.response?.resultJson ? JSON.parse(m.response.resultJson).participantId : undefined);

  async function wsJsonCase(base: (t: string) => Record<string, unknown>, slot: Slot, hostile: Hostile, c: RosterClient = ws): Promise<void> {
    const t = tag();
    const what = `WS ${String(base(t).type)} ${JSON.stringify(slot.path)} = ${hostile.name}`;
    const text = withHostile(base(t), slot.path, hostile.json);
    if (Buffer.byteLength(text) > BODY_LIMIT) {
      // Over the frame limit: the connection is closed (1009), the gateway goes on.
      const big = await connect('json');
      big.ws.send(text);
      await big.closed();
      expect(big.closeCode, what).toBe(1009);
      refused.push(t);
      return;
    }
    const answer = await frame(c, text);
    const status = frameStatus(answer);
    if (hostile.kind === 'deep' || (slot.stored && (hostile.kind === 'badText' || hostile.kind === 'huge'))) expect(status, what).toBe(400);
    await outcome(t, status, `${what}: ${JSON.stringify(answer).slice(0, 300)}`, async () => {
      const participantId = base(t).type === 'join' ? joinedId(answer) : undefined;
      if (participantId) await removeJoined({ status: 201, headers: new Headers(), body: { id: participantId } });
      // An accepted subscription is dropped again, so that its connection only gets answers.
      if (frameStatus(answer) === 200 && base(t).type === 'subscribe') await frame(c, JSON.stringify({ type: 'unsubscribe', requestId: `u-${t}`, callId }));
    });
  }

  let routerCaps: unknown;
  const wsJoin = (t: string) => ({ type: 'join', requestId: `j-${t}`, callId, userId: `w-${t}`, displayName: `W ${t}`, rtpCapabilities: routerCaps });
  const wsJoinSlots: Slot[] = [
    { path: ['userId'], stored: true },
    { path: ['displayName'], stored: true },
    { path: ['rtpCapabilities'] },
    { path: ['rtpCapabilities', 'codecs'] },
    { path: ['callId'] },
    { path: ['requestId'] },
    { path: ['extra'] },
  ];
  const wsSubscribe = (t: string) => ({ type: 'subscribe', requestId: `s-${t}`, callId });
  const wsMute = (t: string) => ({ type: 'mute', requestId: `m-${t}`, callId, participantId: alice.id, clientContext: t });

  // ---- the cases ------------------------------------------------------------------------------

  it('reproduces issue 9 point 4: a deep identity property is refused and the call keeps working', async () => {
    const seqBefore = (await jsonWatcher.answer(jsonWatcher.request({ type: 'resync', callId })))['@mutegate.sequence'];
    const t = tag();
    const res = await join(withHostile(joinBody(t), ['info', 'identity', 'user', 'extra'], deepObject(DEEP)));
    expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'badRequest', innerError: { code: 'invalidRequestBody' } });
    // Shallow nesting that is within the request limit is refused too: identities hold strings only.
    const shallow = await join(withHostile(joinBody(t), ['info', 'identity', 'user', 'extra'], deepObject(3)));
    expect(shallow.status).toBe(400);
    refused.push(t);

    const list = await fixture.api.get(`/communications/calls/${callId}/participants`);
    expect(list.status).toBe(200);
    expect(list.body.value.map((p: { id: string }) => p.id).sort()).toEqual([alice.id, bob.id].sort());
    // The same at call creation (deep in `source`): refused, and the call list still answers.
    const created = await createCall(withHostile(callBody(t), ['source', 'extra'], deepObject(6000)));
    expect(created.status).toBe(400);
    const calls = await fixture.api.get('/communications/calls');
    expect(calls.status).toBe(200);
    expect(calls.body.value.map((c: { id: string }) => c.id)).toEqual([callId]);
    // No roster change, no gap: the next change a subscriber sees follows the last one it saw.
    const seqAfter = (await jsonWatcher.answer(jsonWatcher.request({ type: 'resync', callId })))['@mutegate.sequence'];
    expect(seqAfter).toBe(seqBefore);
  });

  it('answers every hand-picked hostile HTTP body with 4xx (413 over the limit), never 5xx', async () => {
    genesysToken = await userToken('alice');
    for (const hostile of HOSTILE) {
      for (const slot of callSlots) await httpCase('POST /calls', createCall, callBody, slot, hostile, deleteCreatedCall);
      for (const slot of joinSlots) await httpCase('POST participants', join, joinBody, slot, hostile, removeJoined);
      for (const slot of patchSlots) await httpCase('PATCH participant', patchParticipant, patchBody, slot, hostile);
      await httpCase('PATCH call', patchCall, () => ({ muteOnEntry: false }), { path: ['muteOnEntry'] }, hostile);
      await httpCase('PATCH call', patchCall, () => ({ muteOnEntry: false }), { path: ['extra'] }, hostile);
      // clientContext is opaque (Graph echoes it as sent): odd text may be accepted, so its reply is not checked for it.
      await httpCase('mute', mute, (t) => ({ clientContext: t }), { path: ['clientContext'] }, hostile, undefined, { checkStored: false });
      await httpCase('mute', mute, (t) => ({ clientContext: t }), { path: ['extra'] }, hostile, undefined, { checkStored: false });
      await httpCase('Genesys POST', genesys, () => ({ operationName: 'MuteCall' }), { path: ['operationName'] }, hostile);
      await httpCase('Genesys POST', genesys, () => ({ operationName: 'MuteCall' }), { path: ['extra'] }, hostile);
    }
    // The body root itself: deep, an array, a bare string, a number.
    for (const json of [deepObject(DEEP), deepArray(DEEP), '[1,2]', '"call"', '7', 'null']) {
      for (const send of [createCall, join, patchParticipant, patchCall, mute, genesys]) {
        const res = await send(json);
        expect(res.status, json.slice(0, 20)).toBeGreaterThanOrEqual(400);
        expect(res.status, json.slice(0, 20)).toBeLessThan(500);
      }
    }
  });

  it('answers every hand-picked hostile WebSocket frame (JSON and protobuf) with a 4xx error frame, never 5xx', async () => {
    routerCaps = (await ws.answer(ws.request({ type: 'getRouterRtpCapabilities', callId }))).body.rtpCapabilities;
    for (const hostile of HOSTILE) {
      for (const slot of wsJoinSlots) await wsJsonCase(wsJoin, slot, hostile);
      for (const path of [['callId'], ['requestId'], ['extra']]) await wsJsonCase(wsSubscribe, { path }, hostile, wsSubscriber);
      await wsJsonCase(wsMute, { path: ['clientContext'] }, hostile);
    }
    // A deep `type` once made the frame handler throw outside its error path.
    expect(frameStatus(await frame(ws, `{"type":${deepObject(DEEP)},"requestId":"deep-type","callId":"${callId}"}`))).toBe(400);
    expect(ws.closeCode).toBeNull();

    // Protobuf: the same strings in string fields, deep JSON in the *_json fields.
    const protoJoin = (fields: Record<string, unknown>) =>
      ClientMessage.encode(ClientMessage.fromObject({ requestId: `p-${nextTag}`, join: { callId, userId: `p-${tag()}`, rtpCapabilitiesJson: JSON.stringify(routerCaps), ...fields } })).finish();
    const protoCases: [string, Record<string, unknown>, boolean][] = [
      ['deep rtpCapabilitiesJson', { rtpCapabilitiesJson: deepObject(DEEP) }, true],
      ['NUL userId', { userId: 'a\u0000b' }, true],
      ['RTL override displayName', { displayName: 'evil\u202Etxt' }, true],
      ['lone surrogate displayName', { displayName: 'x\ud800' }, true],
      ['C1 userId', { userId: 'x\u0085' }, true],
      ['rtpCapabilitiesJson not JSON', { rtpCapabilitiesJson: '{' }, true],
      ['emoji displayName', { displayName: '👩‍💻' }, false],
    ];
    for (const [name, fields, mustRefuse] of protoCases) {
      const t = `fz${nextTag}x`;
      const answer = await frame(wsProto, protoJoin(fields));
      const status = frameStatus(answer);
      if (mustRefuse) expect(status, `${name}: ${JSON.stringify(answer).slice(0, 300)}`).toBe(400);
      await outcome(t, status, name, async () => {
        const participantId = joinedId(answer);
        if (participantId) await removeJoined({ status: 201, headers: new Headers(), body: { id: participantId } });
      });
    }
    expect(wsProto.closeCode).toBeNull();
  });

  it('a WebRTC participant whose capabilities cannot receive anything does not block later joins', async () => {
    const mallory = await connect('json');
    const joined = await mallory.answer(mallory.request({ type: 'join', callId, userId: 'mallory', rtpCapabilities: { codecs: [], headerExtensions: 'junk' } }));
    const participantId = joined.body?.participantId;
    if (participantId) {
      // A receive transport makes the gateway try to offer her everyone's audio.
      await mallory.answer(mallory.request({ type: 'createTransport', callId, participantId, direction: 'recv' }));
      const late = await joinRtp(fixture.api, callId, { userId: `late-${tag()}` });
      late.peer.close();
      expect((await fixture.api.delete(`/communications/calls/${callId}/participants/${late.id}`)).status).toBe(204);
      expect((await fixture.api.delete(`/communications/calls/${callId}/participants/${participantId}`)).status).toBe(204);
    } else {
      // Refusing such capabilities at the join is as good.
      expect(frameStatus(joined)).toBe(400);
    }
  });

  it('answers seeded-random hostile bodies and frames with 4xx, never 5xx', async () => {
    const seed = Number(process.env.FUZZ_SEED ?? 0x5eed);
    const random = prng(seed);
    const pick = <T,>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const alphabet = ['a', 'Z', '0', ' ', '"', '\\', '/', '\u0000', '\u0007', '\n', '\u007f', '\u0085', '\u00e9', '\u0301', '\u200b', '\u202e', '\u2066', '\u2028', '\ufeff', '\ud800', '\udfff', '😀', '\u{10ffff}', '𝕏'];
    const randomString = (): string => Array.from({ length: Math.floor(random() ** 3 * 400) }, () => pick(alphabet)).join('');
    /** A random JSON value as text; now and then nested far too deep. */
    const randomJson = (depth = 0): string => {
      const r = random();
      if (depth === 0 && r < 0.08) return random() < 0.5 ? deepObject(33 + Math.floor(random() * DEEP)) : deepArray(33 + Math.floor(random() * DEEP));
      if (r < 0.45 || depth > 4) return JSON.stringify(randomString());
      if (r < 0.6) return String(pick([0, -1, 1, 96, 127, 65536, 2 ** 32, 2 ** 53 + 1, 1.25, -0.5]));
      if (r < 0.7) return pick(['true', 'false', 'null', '1e400']);
      if (r < 0.85) return `[${Array.from({ length: Math.floor(random() * 4) }, () => randomJson(depth + 1)).join(',')}]`;
      return `{${Array.from({ length: Math.floor(random() * 4) }, () => `${JSON.stringify(randomString().slice(0, 20))}:${randomJson(depth + 1)}`).join(',')}}`;
    };
    const isDeep = (json: string) => /^(\{"a":){33}|^\[{33}/.test(json);

    for (let i = 0; i < 160; i++) {
      const json = randomJson();
      const hostile: Hostile = { name: `random #${i} (seed ${seed})`, json, kind: isDeep(json) ? 'deep' : Buffer.byteLength(json) > BODY_LIMIT ? 'over' : 'type' };
      const target = pick(['call', 'join', 'patch', 'mute', 'genesys', 'ws'] as const);
      if (target === 'call') await httpCase('POST /calls', createCall, callBody, pick(callSlots), hostile, deleteCreatedCall);
      else if (target === 'join') await httpCase('POST participants', join, joinBody, pick(joinSlots), hostile, removeJoined);
      else if (target === 'patch') await httpCase('PATCH participant', patchParticipant, patchBody, pick(patchSlots), hostile);
      else if (target === 'mute') await httpCase('mute', mute, (t) => ({ clientContext: t }), { path: [pick(['clientContext', 'extra'])] }, hostile, undefined, { checkStored: false });
      else if (target === 'genesys') await httpCase('Genesys POST', genesys, () => ({ operationName: 'MuteCall' }), { path: [pick(['operationName', 'extra'])] }, hostile);
      else await wsJsonCase(wsJoin, pick(wsJoinSlots), hostile);
    }
    expect(refused.length).toBeGreaterThan(100);
  });

  it('afterwards: lists and new JSON and protobuf subscriptions work and show nothing of the refused requests', async () => {
    await sleep(100);
    expect((await fixture.api.get('/healthz')).status).toBe(200);
    const calls = await fixture.api.get('/communications/calls');
    expect(calls.status).toBe(200);
    expect(calls.body.value.map((c: { id: string }) => c.id)).toEqual([callId]);
    const participants = await fixture.api.get(`/communications/calls/${callId}/participants`);
    expect(participants.status).toBe(200);
    expect(participants.body.value.map((p: { id: string }) => p.id).sort()).toEqual([alice.id, bob.id].sort());
    expect(participants.body.value.find((p: { id: string }) => p.id === alice.id).isMuted).toBe(true);

    const json = await connect('json');
    const snapshot = await json.answer(json.request({ type: 'subscribe', callId }));
    expect(snapshot['@mutegate.kind']).toBe('snapshot');
    expect(snapshot.value[0].resourceData.map((p: { id: string }) => p.id).sort()).toEqual([alice.id, bob.id].sort());
    const proto = await connect('proto');
    const protoSnapshot = await proto.answer(proto.request({ type: 'subscribe', callId }));
    expect(protoSnapshot.snapshot.participants.map((p: { id: string }) => p.id).sort()).toEqual([alice.id, bob.id].sort());

    // Nothing of a refused request anywhere: not in the lists, not in any roster message sent meanwhile.
    const seen = [
      JSON.stringify(calls.body),
      JSON.stringify(participants.body),
      ...[json, proto, jsonWatcher, protoWatcher].flatMap((c) => c.messages.map((m) => JSON.stringify(m))),
    ].join('\n');
    expect(refused.filter((t) => seen.includes(t))).toEqual([]);
    // The watchers saw every accepted join and its leave, numbered without a gap.
    for (const watcher of [jsonWatcher, protoWatcher]) {
      const sequences = watcher.deltas().map((d) => d.sequence);
      expect(sequences.length).toBeGreaterThan(0);
      expect(sequences).toEqual(sequences.map((_, i) => (sequences[0] as number) + i));
    }
    expect(accepted.length).toBeGreaterThan(0);
  });
});
