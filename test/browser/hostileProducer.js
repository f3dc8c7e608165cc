// A hostile WebRTC participant in the browser (bundled by the test with esbuild, run in Chromium):
// real mediasoup-client and real DTLS-SRTP, but its own signaling over the WebSocket, so it can do
// what the page never does (produce again on the same send transport while muted). Plain JS: the
// project's tsconfig has no DOM types, and this file only ever runs in the browser.
import { Device } from 'mediasoup-client';

let ws;
let nextId = 1;
const pending = new Map();
let sendTransport;
let track;
const producers = [];

function request(type, body) {
  const requestId = `h${nextId++}`;
  ws.send(JSON.stringify({ type, requestId, ...body }));
  return new Promise((resolve, reject) => pending.set(requestId, { resolve, reject }));
}

async function start({ baseUrl, token, callId, userId }) {
  ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/ws?access_token=${encodeURIComponent(token)}`, 'mutegate.v1.json');
  ws.onmessage = (event) => {
    const frame = JSON.parse(event.data);
    const waiting = frame.requestId !== undefined && pending.get(frame.requestId);
    if (!waiting || (frame.type !== 'response' && frame.type !== 'error')) return;
    pending.delete(frame.requestId);
    if (frame.type === 'response') waiting.resolve(frame.body);
    else waiting.reject(Object.assign(new Error(frame.error?.message ?? 'error'), { status: frame.status, code: frame.error?.innerError?.code }));
  };
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  const device = new Device();
  const { rtpCapabilities } = await request('getRouterRtpCapabilities', { callId });
  await device.load({ routerRtpCapabilities: rtpCapabilities });
  const { participantId } = await request('join', { callId, userId, rtpCapabilities: device.rtpCapabilities });
  const own = { callId, participantId };
  const { transport } = await request('createTransport', { ...own, direction: 'send' });
  sendTransport = device.createSendTransport(transport);
  sendTransport.on('connect', ({ dtlsParameters }, callback, errback) => {
    request('connectTransport', { ...own, transportId: sendTransport.id, dtlsParameters }).then(() => callback(), errback);
  });
  sendTransport.on('produce', ({ kind, rtpParameters }, callback, errback) => {
    request('produce', { ...own, transportId: sendTransport.id, kind, rtpParameters }).then((answer) => callback({ id: answer.producerId }), errback);
  });
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  track = stream.getAudioTracks()[0];
  await produceAgain();
  return participantId;
}

/** One more producer on the same send transport (new MID, new SSRC); the earlier ones keep sending. */
async function produceAgain() {
  const producer = await sendTransport.produce({ track: track.clone() });
  producers.push(producer);
  return producer.id;
}

/** Packets the browser has sent on every producer it made. */
async function packetsSent() {
  let sent = 0;
  (await sendTransport.getStats()).forEach((s) => {
    if (s.type === 'outbound-rtp') sent += s.packetsSent;
  });
  return sent;
}

Object.assign(window, { hostile: { start, produceAgain, packetsSent, request } });
