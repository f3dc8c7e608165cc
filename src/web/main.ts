/**
 * mutegate's browser client: join a call, publish the microphone, hear everyone, see the live
 * roster, and mute through the server. mediasoup-client negotiates the WebRTC media over the
 * gateway's WebSocket (JSON encoding), through mutegate's typed client (src/client), which keeps
 * the roster in sequence (and resyncs it after a gap).
 */
import { Device, types } from 'mediasoup-client';
import { MutegateError, MutegateSocket, type ConsumerOffer, type Roster } from '../client/index.js';

interface RosterEntry {
  id: string;
  name: string;
  isMuted: boolean;
  locked: boolean;
  deafened: boolean;
  handRaised: boolean;
  /** Muted, and the server still receives speech from them. */
  talkingWhileMuted: boolean;
  /** The call's dominant speaker. */
  dominantSpeaker: boolean;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);

/**
 * The token may come in the address (`?token=`, handy for links) or, across this page's own
 * reloads, from the tab's sessionStorage. Either way it is taken out at once: the address bar,
 * the history and a shared link never show it again.
 */
const TOKEN_KEY = 'mutegate.token';
const RECONNECT_KEY = 'mutegate.reconnectAttempt';
const initialToken = params.get('token') ?? sessionStorage.getItem(TOKEN_KEY) ?? '';
sessionStorage.removeItem(TOKEN_KEY);
if (params.has('token')) {
  const clean = new URL(location.href);
  clean.searchParams.delete('token');
  history.replaceState(history.state, '', clean);
}

/** Close codes after which joining again cannot help (the token is refused). */
const FINAL_CLOSE_CODES = new Set([4401, 4403]);
/** A connection that lasted this long was a good one: the next drop starts the backoff again. */
const STABLE_MS = 30_000;
/** This load is a reconnection (the page's own reload after a drop): a failed join tries again. */
const reconnecting = Number(sessionStorage.getItem(RECONNECT_KEY) ?? '0') > 0;

/** What the token says about us, for the UI only (the server enforces every rule). */
function tokenRole(token: string): 'app' | 'moderator' | 'participant' | 'unknown' {
  try {
    const claims = JSON.parse(atob((token.split('.')[1] ?? '').replace(/-/g, '+').replace(/_/g, '/')));
    if (Array.isArray(claims.roles) && claims.roles.some((r: unknown) => typeof r === 'string' && r.startsWith('Calls.'))) return 'app';
    return claims.mutegate_role === 'moderator' ? 'moderator' : claims.mutegate_role === 'participant' ? 'participant' : 'unknown';
  } catch {
    return 'unknown';
  }
}

const state = {
  role: 'unknown' as ReturnType<typeof tokenRole>,
  callId: '',
  participantId: '',
  roster: new Map<string, RosterEntry>(),
  /** True while our own mute/unmute request is in flight or was the last change we made. */
  selfMuted: false,
  /** A moderator asked us to unmute and we have neither unmuted nor dismissed it. */
  unmuteRequested: false,
  joined: false,
  /** When the last join completed (ms since page load), and the last close code seen. */
  joinedAt: 0,
  lastCloseCode: 0,
};

/** Who joined, to join again as the same identity. */
let session: { callId: string; displayName: string; userId: string; token: string } | null = null;

/**
 * Joins again as the same identity (the server keeps its mute, lock and hand) on a fresh page
 * load, so that no transport or consumer of the old connection is left behind; the token crosses
 * the reload in the tab's sessionStorage, never in the address. Waits 1, 2, 4 … 30 s between
 * attempts (`now` for the first one: the server asked for it); a connection that lasted
 * STABLE_MS starts the count again. The page is reloaded only once the server answers (a reload
 * while it is away would leave the browser's error page, which tries nothing): until then each
 * attempt is a probe of /healthz from this page.
 */
function scheduleRejoin(why: string, now: boolean): void {
  if (!session) return;
  if (state.joined && performance.now() - state.joinedAt > STABLE_MS) sessionStorage.removeItem(RECONNECT_KEY);
  state.joined = false;
  const attempt = Number(sessionStorage.getItem(RECONNECT_KEY) ?? '0');
  sessionStorage.setItem(RECONNECT_KEY, String(attempt + 1));
  const delayMs = now && attempt === 0 ? 0 : Math.min(30_000, 1000 * 2 ** (now ? attempt - 1 : attempt));
  setStatus(`${why}; reconnecting in ${Math.round(delayMs / 1000)} s…`, 'error');
  setTimeout(() => void rejoinWhenReachable(why), delayMs);
}

async function rejoinWhenReachable(why: string): Promise<void> {
  if (!session) return;
  try {
    const health = await fetch('/healthz', { cache: 'no-store', signal: AbortSignal.timeout(5000) });
    if (!health.ok) throw new Error(`healthz ${health.status}`);
  } catch {
    return scheduleRejoin(`${why.replace(/; the server does not answer$/, '')}; the server does not answer`, false);
  }
  const { callId, displayName, userId, token } = session;
  const next = new URL(location.href);
  next.searchParams.set('call', callId);
  next.searchParams.set('name', displayName);
  next.searchParams.set('user', userId);
  next.searchParams.set('autojoin', '1');
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  location.replace(next);
}

let signaling: MutegateSocket | null = null;
let producer: types.Producer | null = null;
const consumers = new Map<string, { consumer: types.Consumer; sourceParticipantId: string }>();

function setStatus(text: string, kind: 'info' | 'error' = 'info'): void {
  const el = $('status');
  el.textContent = text;
  el.dataset.kind = kind;
}

function render(): void {
  const list = $<HTMLUListElement>('roster');
  list.replaceChildren();
  for (const entry of state.roster.values()) {
    const li = document.createElement('li');
    li.dataset.participantId = entry.id;
    li.className = entry.isMuted ? 'muted' : 'live';
    if (entry.dominantSpeaker) li.classList.add('dominant');
    // Someone else talking while muted is shown to moderators (and applications) only: it is a
    // hint for whoever can ask them to unmute. (The roster itself carries it for every
    // subscriber, like isMuted: hiding it here is presentation, not access control.)
    const moderating = state.role === 'moderator' || state.role === 'app';
    const showTalkingWhileMuted = entry.talkingWhileMuted && entry.id !== state.participantId && moderating;
    if (showTalkingWhileMuted) li.classList.add('talking-while-muted');
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = entry.name + (entry.id === state.participantId ? ' (you)' : '');
    const badge = document.createElement('span');
    badge.className = 'badge';
    badge.textContent = [
      entry.isMuted ? (entry.locked ? 'muted and locked' : 'muted by server') : 'live',
      entry.dominantSpeaker ? 'speaking' : '',
      // For moderators: someone muted is trying to speak (a hint to ask them to unmute, or not).
      showTalkingWhileMuted ? 'talking while muted' : '',
      entry.deafened ? 'deafened' : '',
      entry.handRaised ? 'hand raised' : '',
    ]
      .filter(Boolean)
      .join(' · ');
    li.append(name, badge);
    // Moderators (and applications) may mute others; nobody unmutes someone else, they ask.
    if (entry.id !== state.participantId && moderating) {
      const button = document.createElement('button');
      button.textContent = entry.isMuted ? 'Ask to unmute' : 'Mute';
      button.onclick = () => void (entry.isMuted ? requestUnmute(entry.id) : setMuted(entry.id, true));
      li.append(button);
    }
    list.append(li);
  }
  const me = state.roster.get(state.participantId);
  const banner = $('banner');
  // Asked, and then unmuted (here or by a moderator's change): nothing left to act on.
  if (me && !me.isMuted) state.unmuteRequested = false;
  $('dismiss').hidden = true;
  if (state.unmuteRequested && me?.isMuted && !me.locked) {
    // Stays until acted on: "Unmute me", or "Stay muted".
    banner.textContent = 'A moderator asks you to unmute. Press "Unmute me" if you want to speak.';
    banner.hidden = false;
    $('dismiss').hidden = false;
  } else if (me?.locked) {
    banner.textContent = me.talkingWhileMuted
      ? 'You are muted and locked: nobody hears you talking. You can unmute once a moderator unlocks you.'
      : 'A moderator muted and locked you. You can unmute once they unlock you.';
    banner.hidden = false;
  } else if (me?.talkingWhileMuted) {
    banner.textContent = `${state.selfMuted ? 'You muted yourself' : 'You are muted by the server'}: nobody hears you talking. Press "Unmute me" to speak.`;
    banner.hidden = false;
  } else if (me?.isMuted && !state.selfMuted) {
    banner.textContent = 'You are muted by the server. Your microphone still sends, but nobody hears it.';
    banner.hidden = false;
  } else if (me?.isMuted) {
    banner.textContent = 'You muted yourself.';
    banner.hidden = false;
  } else {
    banner.hidden = true;
  }
  $<HTMLButtonElement>('self-mute').textContent = me?.isMuted ? 'Unmute me' : 'Mute me';
  $<HTMLButtonElement>('self-mute').disabled = !state.joined || Boolean(me?.locked);
  $<HTMLButtonElement>('hand').textContent = me?.handRaised ? 'Lower hand' : 'Raise hand';
  $<HTMLButtonElement>('hand').disabled = !state.joined;
}

/** The call's roster as the client keeps it (in sequence; resynced after a gap). */
function applyRoster(roster: Roster): void {
  if (roster.callId !== state.callId) return;
  state.roster.clear();
  for (const p of roster.participants.values()) {
    state.roster.set(p.id, {
      id: p.id,
      name: p.identity?.displayName || p.identity?.id || p.id.slice(0, 8),
      isMuted: p.isMuted,
      locked: p.locked,
      deafened: p.deafened,
      handRaised: p.handRaised,
      talkingWhileMuted: p.talkingWhileMuted,
      dominantSpeaker: p.dominantSpeaker,
    });
  }
  render();
}

async function setMuted(participantId: string, muted: boolean): Promise<void> {
  if (!signaling) return;
  if (participantId === state.participantId) {
    state.selfMuted = muted;
    state.unmuteRequested = false;
  }
  try {
    await signaling.request(muted ? 'mute' : 'unmute', { callId: state.callId, participantId, clientContext: 'mutegate-web' });
  } catch (err) {
    setStatus(`${muted ? 'Mute' : 'Unmute'} failed: ${(err as Error).message}`, 'error');
  }
}

async function requestUnmute(participantId: string): Promise<void> {
  try {
    await signaling?.request('requestUnmute', { callId: state.callId, participantId });
    setStatus('Asked them to unmute.');
  } catch (err) {
    setStatus(`Could not ask: ${(err as Error).message}`, 'error');
  }
}

async function consume(device: Device, recvTransport: types.Transport, offer: ConsumerOffer): Promise<void> {
  const consumer = await recvTransport.consume({
    id: offer.consumerId,
    producerId: offer.producerId,
    kind: offer.kind,
    // mediasoup's own structure, passed through by the server as it made it.
    rtpParameters: offer.rtpParameters as unknown as types.RtpParameters,
  });
  consumers.set(offer.consumerId, { consumer, sourceParticipantId: offer.sourceParticipantId });
  const audio = document.createElement('audio');
  audio.autoplay = true;
  audio.srcObject = new MediaStream([consumer.track]);
  audio.dataset.source = offer.sourceParticipantId;
  $('audio').append(audio);
  await signaling?.request('resumeConsumer', { callId: state.callId, participantId: state.participantId, consumerId: offer.consumerId });
  void device;
}

async function join(): Promise<void> {
  const callId = $<HTMLInputElement>('call-id').value.trim();
  const displayName = $<HTMLInputElement>('display-name').value.trim() || 'Guest';
  const userId = params.get('user') ?? `${displayName.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${Math.random().toString(36).slice(2, 8)}`;
  if (!callId) return setStatus('Enter a call id.', 'error');
  $<HTMLButtonElement>('join').disabled = true;
  setStatus('Connecting…');
  session = { callId, displayName, userId, token: $<HTMLInputElement>('token').value.trim() };
  try {
    // The token (a participant token for this call, see `npm run token`) rides in the URL:
    // browsers cannot set headers on a WebSocket.
    const token = $<HTMLInputElement>('token').value.trim();
    state.role = tokenRole(token);
    // The token goes as ?access_token= (a browser cannot set headers on a WebSocket).
    const socket = await MutegateSocket.connect(location.origin, token ? { token } : {});
    signaling = socket;
    socket.on('roster', applyRoster);
    socket.on('close', (code, reason) => {
      state.lastCloseCode = code;
      if (!state.joined || FINAL_CLOSE_CODES.has(code)) return setStatus(`Disconnected: ${reason || code}`, 'error');
      scheduleRejoin(`Disconnected (${reason || code})`, false);
    });
    socket.on('unmuteRequested', () => {
      state.unmuteRequested = true;
      render();
    });
    socket.on('reconnect', () => {
      // The server rebuilt the call's media after a crash: join again, same identity (mute kept).
      scheduleRejoin('The server rebuilt the call', true);
    });
    state.callId = callId;

    const device = new Device();
    const { rtpCapabilities } = (await socket.request('getRouterRtpCapabilities', { callId })) as { rtpCapabilities: types.RtpCapabilities };
    await device.load({ routerRtpCapabilities: rtpCapabilities });
    const { participantId } = (await socket.request('join', { callId, userId, displayName, rtpCapabilities: device.rtpCapabilities })) as { participantId: string };
    state.participantId = participantId;
    await socket.subscribe(callId);

    const own = { callId, participantId };
    const sendInfo = (await socket.request('createTransport', { ...own, direction: 'send' })).transport as types.TransportOptions;
    const sendTransport = device.createSendTransport(sendInfo);
    sendTransport.on('connect', ({ dtlsParameters }, callback, errback) => {
      socket.request('connectTransport', { ...own, transportId: sendTransport.id, dtlsParameters }).then(() => callback(), errback);
    });
    sendTransport.on('produce', ({ kind, rtpParameters }, callback, errback) => {
      socket
        .request('produce', { ...own, transportId: sendTransport.id, kind, rtpParameters })
        .then((answer) => callback({ id: String(answer.producerId) }), errback);
    });

    // Offers can arrive as soon as the receive transport exists; take them in order.
    const offers: ConsumerOffer[] = [];
    let recvTransport: types.Transport | null = null;
    let chain = Promise.resolve();
    const take = (offer: ConsumerOffer) => {
      chain = chain.then(() => consume(device, recvTransport as types.Transport, offer)).catch((err: Error) => setStatus(`Could not receive audio: ${err.message}`, 'error'));
    };
    socket.on('consumer', (offer) => (recvTransport ? take(offer) : offers.push(offer)));
    const recvInfo = (await socket.request('createTransport', { ...own, direction: 'recv' })).transport as types.TransportOptions;
    recvTransport = device.createRecvTransport(recvInfo);
    recvTransport.on('connect', ({ dtlsParameters }, callback, errback) => {
      socket.request('connectTransport', { ...own, transportId: recvTransport!.id, dtlsParameters }).then(() => callback(), errback);
    });
    offers.splice(0).forEach(take);

    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    const track = stream.getAudioTracks()[0];
    if (!track) throw new Error('no microphone track');
    // Opus DTX: in silence the browser sends about one tiny packet per 400 ms, which is how the
    // server tells a muted participant who talks from one who is quiet (talkingWhileMuted).
    producer = await sendTransport.produce({ track, codecOptions: { opusDtx: true } });
    state.joined = true;
    state.joinedAt = performance.now();
    $('join-form').hidden = true;
    $('call').hidden = false;
    $('call-title').textContent = `Call ${callId}`;
    setStatus(`Joined as ${displayName}.`);
    render();
  } catch (err) {
    // Joining again after a drop: the server may still be away; keep trying, unless the server
    // answered and said no (a refused token, or the call is gone: 404 after it ended). A 429 is
    // not a no: rejoining too often (limits.ownMediaChangesPerMinute) is refused for a while only.
    const refused =
      FINAL_CLOSE_CODES.has(state.lastCloseCode) || (err instanceof MutegateError && err.status >= 400 && err.status < 500 && err.status !== 429);
    if (reconnecting && !refused) return scheduleRejoin(`Could not join again (${(err as Error).message})`, false);
    sessionStorage.removeItem(RECONNECT_KEY);
    setStatus(`Could not join: ${(err as Error).message}`, 'error');
    $<HTMLButtonElement>('join').disabled = false;
  }
}

/** For tests and diagnostics: RTP counters from the browser's own getStats(). */
async function stats(): Promise<{ outboundPacketsSent: number; inboundPacketsReceived: Record<string, number> }> {
  let outboundPacketsSent = 0;
  if (producer) {
    (await producer.getStats()).forEach((s) => {
      if (s.type === 'outbound-rtp') outboundPacketsSent += s.packetsSent ?? 0;
    });
  }
  const inboundPacketsReceived: Record<string, number> = {};
  for (const { consumer, sourceParticipantId } of consumers.values()) {
    (await consumer.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp') inboundPacketsReceived[sourceParticipantId] = (inboundPacketsReceived[sourceParticipantId] ?? 0) + (s.packetsReceived ?? 0);
    });
  }
  return { outboundPacketsSent, inboundPacketsReceived };
}

/** For tests and diagnostics: the connection drops as if the network failed. */
function dropConnection(): void {
  signaling?.close(4000, 'dropped by the page');
}

Object.assign(window, { mutegate: { state, stats, dropConnection } });

$<HTMLInputElement>('call-id').value = params.get('call') ?? '';
$<HTMLInputElement>('display-name').value = params.get('name') ?? '';
$<HTMLInputElement>('token').value = initialToken;
$('join-form').addEventListener('submit', (event) => {
  event.preventDefault();
  void join();
});
$('hand').addEventListener('click', () => {
  const me = state.roster.get(state.participantId);
  if (!me || !signaling) return;
  signaling.request(me.handRaised ? 'lowerHand' : 'raiseHand', { callId: state.callId, participantId: me.id }).catch((err: Error) => setStatus(`Hand: ${err.message}`, 'error'));
});
$('dismiss').addEventListener('click', () => {
  state.unmuteRequested = false;
  render();
});
$('self-mute').addEventListener('click', () => {
  const me = state.roster.get(state.participantId);
  if (me) void setMuted(me.id, !me.isMuted);
});
render();
if (params.get('autojoin') === '1') void join();
