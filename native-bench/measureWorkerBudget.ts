/**
 * Rough measurement behind media.workerBudget's defaults: ONE mediasoup worker (no gateway), one
 * router, P plain-RTP talkers each sending 50 packets/s, everyone consuming everyone
 * (P × (P − 1) consumers, each sending 50 packets/s to a closed port, so the load generator only
 * sends). Per P: worker CPU share of one core, its resident memory, and the round trip of
 * producer.pause() (what a mute waits for) over 20 pauses.
 *
 *   node --import tsx native-bench/measureWorkerBudget.ts [--paused] [P …]   (default 20 30 40 50 60)
 *
 * With --paused every consumer is paused (as speaker-aware forwarding holds the sources it does
 * not select): what consumers that exist but carry nothing cost the worker.
 *
 * Respect the shared-machine rule before running it: no benchmark may be running.
 */
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { processCpuSeconds } from './lib/procCpu.js';
import { encodeRtp } from './lib/rtp.js';
import { routerMediaCodecs, plainOpusReceiveCapabilities, plainOpusSendParameters } from '../src/media/codecs.js';
import { loadMediasoup } from '../src/media/loadMediasoup.js';

const PACKETS_PER_SECOND = 50;
const WINDOW_MS = 5000;
const SINK_PORT = 9; // discard: nothing listens on 127.0.0.1:9 here, the kernel drops it

async function measure(talkers: number): Promise<void> {
  const mediasoup = await loadMediasoup();
  const worker = await mediasoup.createWorker({ logLevel: 'error', rtcMinPort: 46000, rtcMaxPort: 49999 });
  const router = await worker.createRouter({ mediaCodecs: routerMediaCodecs });
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  const sendPorts: number[] = [];
  const producers = [];
  const receivers = [];
  for (let i = 0; i < talkers; i++) {
    // Send side: latches on the generator's socket. Receive side: sends to the closed sink port.
    const send = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: true });
    const recv = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: false });
    await recv.connect({ ip: '127.0.0.1', port: SINK_PORT });
    producers.push(await send.produce({ kind: 'audio', rtpParameters: plainOpusSendParameters(100, 1000 + i) }));
    receivers.push(recv);
    sendPorts.push(send.tuple.localPort);
  }
  for (const [i, recv] of receivers.entries()) {
    for (const [j, producer] of producers.entries()) {
      if (i !== j) await recv.consume({ producerId: producer.id, rtpCapabilities: plainOpusReceiveCapabilities(100), paused: consumersPaused });
    }
  }
  let seq = 0;
  const payload = Buffer.alloc(80);
  const timer = setInterval(() => {
    seq++;
    for (const [i, port] of sendPorts.entries()) {
      socket.send(encodeRtp({ payloadType: 100, sequenceNumber: seq, timestamp: seq * 960, ssrc: 1000 + i, marker: false, payload }), port, '127.0.0.1');
    }
  }, 1000 / PACKETS_PER_SECOND);
  await new Promise((r) => setTimeout(r, 1000));
  const cpuBefore = processCpuSeconds(worker.pid);
  const started = performance.now();
  const pauses: number[] = [];
  for (let k = 0; k < 20; k++) {
    await new Promise((r) => setTimeout(r, WINDOW_MS / 20));
    const producer = producers[k % producers.length];
    if (!producer) continue;
    const t0 = performance.now();
    await producer.pause();
    pauses.push(performance.now() - t0);
    await producer.resume();
  }
  const cpu = (processCpuSeconds(worker.pid) - cpuBefore) / ((performance.now() - started) / 1000);
  const rssMb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${worker.pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
  clearInterval(timer);
  pauses.sort((a, b) => a - b);
  const consumers = talkers * (talkers - 1);
  console.log(
    [
      `P=${talkers}${consumersPaused ? ' (consumers paused)' : ''}`,
      `consumers=${consumers}`,
      `packets/s in+out≈${(talkers + consumers) * PACKETS_PER_SECOND}`,
      `worker CPU=${(cpu * 100).toFixed(0)} %`,
      `RSS=${rssMb.toFixed(0)} MB`,
      `pause p50=${pauses[Math.floor(pauses.length / 2)]?.toFixed(1)} ms max=${pauses.at(-1)?.toFixed(1)} ms`,
    ].join('  '),
  );
  socket.close();
  worker.close();
}

const consumersPaused = process.argv.includes('--paused');
const sizes = process.argv.slice(2).map(Number).filter((n) => n > 1);
for (const p of sizes.length ? sizes : [20, 30, 40, 50, 60]) await measure(p);
