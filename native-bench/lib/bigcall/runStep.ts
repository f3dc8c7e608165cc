/**
 * One step of the big-call profile: a fresh gateway, one call of P talkers in one forwarding mode,
 * joined one by one while the already joined ones talk; then a steady window in which quiet
 * talkers are muted and unmuted, and everything the sampled receivers got is accounted for.
 */
import { randomBytes } from 'node:crypto';
import { mintDevToken } from '../../../src/api/auth/devTokens.js';
import { startGatewayProcess, type GatewayProcess } from '../gatewayProcess.js';
import { analyzeMute, type MuteResult } from '../probeAnalysis.js';
import { processSource, startCpuWindow } from '../procCpu.js';
import { nowMs, type Address } from '../RtpPeer.js';
import { summarize } from '../stats.js';
import { BigCallThread } from './BigCallThread.js';
import type { SendSettings, TalkerSpec } from './bigCallThreadWorker.js';
import { BigCallClient, IncompatibleGateway, type Forwarding } from './callClient.js';
import { accountDelivery, firstArrivals } from './delivery.js';
import { udpDrops } from './discardSocket.js';
import { overlapMs, type Interval } from './benchStalls.js';
import { loopWindow, scrapeGatewayLoop } from './gatewayLoop.js';
import { muteBreakdown } from './muteBreakdown.js';
import { MuteThread } from './MuteThread.js';
import { runMuteCycles } from './muteCycles.js';
import type { Refusal, StepResult } from './stepResult.js';
import { LEVEL_DBOV, planTalkers, type PlannedTalker } from './talkerPlan.js';
import { stepFailure, TARGET_MUTE_ACK_P99_MS } from './verdict.js';
import { mediasoupWorkerPids } from './workerPids.js';

export interface StepOptions {
  talkers: number;
  forwarding: Forwarding;
  loud: number;
  sampledReceivers: number;
  victims: number;
  mutes: number;
  packetsPerSecond: number;
  payloadBytes: number;
  /** Send media.audioLevelExtensionId on join (packets carry the extension either way). */
  audioLevel: boolean;
  audioLevelExtensionId: number;
  /** Muted victims send speech (loud) until just before their unmute. */
  talkWhileMuted: boolean;
  workers: number;
  warmupSeconds: number;
  steadySeconds: number;
  joinTimeoutMs: number;
  muteTimeoutMs: number;
  /** The mute client thread's nice value (null: the process's). */
  muteClientNice: number | null;
  /** The nice value of the thread that sends for the unsampled talkers (null: the process's). */
  talkersNice: number | null;
  /** Options for node itself when the gateway is started (see GATEWAY_NODE_ARGS in profile.ts). */
  gatewayNodeArgs: string[];
  progress: (message: string) => void;
}

const PAYLOAD_TYPE = 100;
/** The armed check's speaker: louder than the loud talkers (-20 dBov), for long enough to be picked. */
const CONTROL_LEVEL_DBOV = 10;
const CONTROL_MS = 1500;
/** Unsampled participants per discard socket (each transport is connected to its socket's address). */
const TALKERS_PER_DISCARD_SOCKET = 50;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const longest = (intervals: readonly Interval[]) => intervals.reduce((m, [from, to]) => Math.max(m, to - from), 0);

export async function runStep(opts: StepOptions): Promise<StepResult> {
  const label = `${opts.forwarding.mode} P=${opts.talkers}`;
  const secret = randomBytes(24).toString('hex');
  const gateway: GatewayProcess = await startGatewayProcess({
    MUTEGATE_MEDIA_NUM_WORKERS: String(opts.workers),
    MUTEGATE_AUTH_HS256_SECRET: secret,
    MUTEGATE_AUTH_ALLOW_APP_REMOTE_UNMUTE: 'true',
  }, opts.gatewayNodeArgs);
  const token = await mintDevToken(secret, { role: 'app', subject: 'native-bench-bigcall' });
  const client = new BigCallClient(gateway.url, token, opts.joinTimeoutMs);
  // The mutes are sent and timed by a thread that does nothing else (see muteThreadWorker.ts).
  const mutes = await MuteThread.open(gateway.url, token, opts.muteClientNice);
  if (opts.muteClientNice !== null && mutes.priority.nice !== opts.muteClientNice) opts.progress(`${label}: the mute client thread could not get nice ${opts.muteClientNice} (${mutes.priority.error ?? 'unknown'}); it runs at the process's priority`);
  const sampled = BigCallThread.start('big-call sampled receivers');
  const others = BigCallThread.start('big-call talkers');
  const othersPriority = await others.nice(opts.talkersNice);
  if (opts.talkersNice !== null && othersPriority.nice !== opts.talkersNice) opts.progress(`${label}: the talkers' thread could not get nice ${opts.talkersNice} (${othersPriority.error ?? 'unknown'})`);
  let callId: string | undefined;
  try {
    const plan = planTalkers(opts.talkers, opts);
    const sampledSockets = await sampled.open(plan.filter((t) => t.sampled !== null).length, true);
    const discard = await others.open(Math.max(1, Math.ceil(opts.talkers / TALKERS_PER_DISCARD_SOCKET)), false);
    const discardPorts = discard.addresses.map((a) => a.port);
    const settings: SendSettings = { packetsPerSecond: opts.packetsPerSecond, payloadBytes: opts.payloadBytes, audioLevelExtensionId: opts.audioLevelExtensionId };
    const call = await client.createCall(`native-bench big call ${label}`, opts.forwarding);
    callId = call.id;
    if (call.forwarding === undefined) opts.progress(`${label}: the gateway does not report the call's forwarding (it may ignore the field)`);

    // Joins, one at a time; each joined talker starts sending right away (people talk while others join).
    opts.progress(`${label}: joining ${opts.talkers} talkers (${opts.workers} worker(s))`);
    const joined = new Map<number, { talker: PlannedTalker; participantId: string }>();
    const placedMs: number[] = [];
    const refusals: Refusal[] = [];
    let timedOut = 0;
    let maxAnswerMs = 0;
    const firstJoinAt = nowMs();
    let attempted = 0;
    for (const talker of plan) {
      attempted++;
      const socket = talker.sampled ?? talker.index % discard.addresses.length;
      const receive = (talker.sampled !== null ? sampledSockets.addresses[talker.sampled] : discard.addresses[socket]) as Address;
      const outcome = await client.join(call.id, `talker-${talker.index}`, {
        payloadType: PAYLOAD_TYPE,
        ssrc: talker.ssrc,
        receive,
        ...(opts.audioLevel ? { audioLevelExtensionId: opts.audioLevelExtensionId } : {}),
      });
      maxAnswerMs = Math.max(maxAnswerMs, outcome.ms);
      if (outcome.kind === 'placed') {
        placedMs.push(outcome.ms);
        joined.set(talker.senderId, { talker, participantId: outcome.participantId });
        const spec: TalkerSpec = { senderId: talker.senderId, ssrc: talker.ssrc, payloadType: PAYLOAD_TYPE, to: outcome.send, socket, levelDbov: LEVEL_DBOV[talker.role], record: talker.victim };
        await (talker.sampled !== null ? sampled : others).addTalkers([spec], settings);
      } else if (outcome.kind === 'refused') {
        refusals.push({ index: talker.index, ms: outcome.ms, atSeconds: (nowMs() - firstJoinAt) / 1000, code: outcome.code });
        if (refusals.length === 1) opts.progress(`${label}: join ${talker.index + 1} refused (${outcome.status} ${outcome.code}) after ${outcome.ms.toFixed(0)} ms`);
      } else {
        timedOut++;
        opts.progress(`${label}: join ${talker.index + 1} not answered within ${opts.joinTimeoutMs} ms: no further joins`);
        break;
      }
      if ((talker.index + 1) % 25 === 0) opts.progress(`${label}: ${talker.index + 1} joins sent, ${joined.size} placed, last took ${outcome.ms.toFixed(0)} ms`);
    }

    await sleep(opts.warmupSeconds * 1000);
    // The steady window.
    await sampled.startRecording();
    // Scraped once before the window (resets its loop-delay histogram) and once after it.
    const gatewayLoopBefore = await scrapeGatewayLoop(gateway.url, token);
    // The mute thread's own stalls and GC pauses are part of each ack it times.
    await mutes.startRecording();
    const workerPids = mediasoupWorkerPids(gateway.process.pid as number);
    const cpuWindow = startCpuWindow([processSource('gateway', gateway.process.pid as number), processSource('bench', process.pid), ...workerPids.map((pid) => processSource(`worker ${pid}`, pid))]);
    const dropsBefore = udpDrops(discardPorts);
    const windowStart = nowMs();
    const countersBefore = new Map([...(await sampled.counters()), ...(await others.counters())]);

    const victims = [...joined.values()].filter((j) => j.talker.victim);
    const cycles = await runMuteCycles({
      victims: victims.map((v) => ({ senderId: v.talker.senderId, participantId: v.participantId })),
      pairs: opts.mutes,
      timeoutMs: opts.muteTimeoutMs,
      setMuted: (participantId, muted) => mutes.setMuted(call.id, participantId, muted),
      // Victims are in the discard thread (never sampled): speech while muted, quiet otherwise.
      ...(opts.talkWhileMuted ? { talking: (senderId: number, whileMuted: boolean) => others.setLevel(senderId, whileMuted ? LEVEL_DBOV.loud : LEVEL_DBOV.quiet) } : {}),
      progress: (message) => opts.progress(`${label}: ${message}`),
    });
    const { windows, gone } = cycles;
    const remaining = opts.steadySeconds * 1000 - (nowMs() - windowStart);
    if (remaining > 0) await sleep(remaining);
    const countersAfter = new Map([...(await sampled.counters()), ...(await others.counters())]);
    const windowSeconds = (nowMs() - windowStart) / 1000;
    const cpu = cpuWindow();
    const dropsAfter = udpDrops(discardPorts);
    const stalls = await mutes.stopRecording();
    for (const t of cycles.timings) {
      t.benchStallMs = overlapMs(stalls.stalls, t.requestAt, t.requestAt + t.clientMs);
      t.benchGcMs = overlapMs(stalls.gcPauses, t.requestAt, t.requestAt + t.clientMs);
    }
    const gatewayLoopAfter = await scrapeGatewayLoop(gateway.url, token);
    // Is the leak check armed? Speakers mode forwards no quiet talker, so a victim's packets can
    // only reach anyone because it spoke. After the window, one unmuted victim speaks louder than
    // the loud talkers for a moment: it must be heard, or "leak 0" proves nothing.
    const control = victims.find((v) => !gone.has(v.talker.senderId));
    let controlRange: [number, number] | null = null;
    if (control) {
      const id = control.talker.senderId;
      const from = (await others.counters()).get(id) ?? 0;
      await others.setLevel(id, CONTROL_LEVEL_DBOV);
      await sleep(CONTROL_MS);
      await others.setLevel(id, LEVEL_DBOV.quiet);
      controlRange = [from, (await others.counters()).get(id) ?? from];
    }
    await sleep(500); // let the last packets land

    const received = await sampled.received();
    const sentTimes = await others.sentTimes(victims.map((v) => v.talker.senderId));
    const [sampledStats, otherStats] = [await sampled.stats(), await others.stats()];
    const window = new Map<number, readonly [number, number]>();
    for (const [id, to] of countersAfter) window.set(id, [countersBefore.get(id) ?? to, to]);
    const joinedTalkers = [...joined.values()].map((j) => j.talker);
    const expected = new Set(joinedTalkers.filter((t) => opts.forwarding.mode === 'all' || t.role === 'loud').map((t) => t.senderId));
    const receivers = new Map(joinedTalkers.filter((t) => t.sampled !== null).map((t) => [t.sampled as number, t.senderId]));
    const delivery = accountDelivery({ received, receivers, window, expected, ignored: new Set(victims.map((v) => v.talker.senderId)) });

    const results: MuteResult[] = [];
    let victimPacketsForwarded = 0;
    for (const v of victims) {
      const arrivals = firstArrivals(received, v.talker.senderId);
      victimPacketsForwarded += arrivals.size;
      const sent = Array.from(sentTimes.get(v.talker.senderId) ?? []);
      for (const w of windows.filter((x) => x.senderId === v.talker.senderId)) results.push(analyzeMute(sent, arrivals, w));
    }
    const leakAfterAck = results.reduce((sum, r) => sum + r.leakAfterAck, 0);
    let leakCheckArmed: boolean | null = null;
    if (control && controlRange) {
      const [from, to] = controlRange;
      leakCheckArmed = [...firstArrivals(received, control.talker.senderId).keys()].some((c) => c >= from && c < to);
    }
    if (leakAfterAck > 0) opts.progress(`!!!!! LEAK: ${label}: ${leakAfterAck} packet(s) sent after a mute's acknowledgement were forwarded !!!!!`);

    const result: StepResult = {
      talkers: opts.talkers,
      forwarding: opts.forwarding,
      appliedForwarding: call.forwarding ?? null,
      joins: {
        placed: joined.size,
        refused: refusals.length,
        timedOut,
        notAttempted: opts.talkers - attempted,
        placedMs: summarize(placedMs),
        refusals,
        maxAnswerMs,
      },
      sampledReceivers: { joined: receivers.size, planned: plan.filter((t) => t.sampled !== null).length },
      steadySeconds: windowSeconds,
      delivery: {
        expectedPackets: delivery.expectedPackets,
        receivedPackets: delivery.receivedPackets,
        ratio: delivery.ratio,
        worstReceiverRatio: delivery.worstReceiverRatio,
        unexpectedPackets: delivery.unexpectedPackets,
      },
      oneWayMs: summarize(delivery.latencyMs),
      cpu: {
        gateway: cpu.gateway ?? NaN,
        bench: cpu.bench ?? NaN,
        workers: workerPids.map((pid) => ({ pid, percent: cpu[`worker ${pid}`] ?? NaN })),
      },
      mutes: {
        attempted: cycles.attempted,
        acked: windows.length,
        failed: cycles.failed,
        timedOut: cycles.timedOut,
        ackMs: summarize(results.map((r) => r.apiLatencyMs)),
        unmuteAckMs: summarize(results.map((r) => r.unmuteApiLatencyMs)),
        leakAfterAck,
        results,
        victimPacketsForwarded,
        leakCheckArmed,
        timings: cycles.timings,
        breakdown: muteBreakdown(cycles.timings, TARGET_MUTE_ACK_P99_MS),
      },
      loops: {
        gateway: gatewayLoopBefore && gatewayLoopAfter ? loopWindow(gatewayLoopBefore, gatewayLoopAfter) : null,
        muteClient: { nice: mutes.priority.nice, stalls: stalls.stalls.length, stallMaxMs: longest(stalls.stalls), gcPauses: stalls.gcPauses.length, gcMaxMs: longest(stalls.gcPauses) },
      },
      unsampledPacketsPerSecond: (dropsAfter - dropsBefore) / windowSeconds,
      bench: { sent: sampledStats.sent + otherStats.sent, skipped: sampledStats.skipped + otherStats.skipped, datagramsRead: sampledStats.datagrams, discardSocketsRead: discard.reading },
      failed: null,
    };
    result.failed = stepFailure(result);
    return result;
  } catch (err) {
    if (err instanceof IncompatibleGateway) throw err;
    opts.progress(`${label}: step failed: ${(err as Error).message}`);
    throw err;
  } finally {
    await Promise.all([sampled.close(), others.close()]);
    if (callId && gateway.process.exitCode === null) await client.deleteCall(callId);
    await mutes.close();
    // A saturated gateway may take long to shut down: the next step needs the cores.
    await Promise.race([gateway.stop(), sleep(10_000)]);
    if (gateway.process.exitCode === null && gateway.process.signalCode === null) gateway.process.kill('SIGKILL');
  }
}
