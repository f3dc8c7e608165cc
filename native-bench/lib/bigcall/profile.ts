/**
 * `npm run bench -- --profile bigcall`: one call of P talkers, P = 25 … 200, in each forwarding
 * mode; per step delivery, one-way latency, CPU per worker, mute ack, leak after ack, join time.
 * A mode stops growing P at its first step that clearly fails (delivery < 90 %, a mute or join
 * not answered or not confirmed); the other mode still runs.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { installedMediasoupVersion } from '../../../src/media/workerBinary.js';
import { IncompatibleGateway, type Forwarding } from './callClient.js';
import { bigCallMarkdown, type BigCallReport, type StepError } from './report.js';
import { runStep, type StepOptions } from './runStep.js';
import type { StepResult } from './stepResult.js';

/**
 * Options for the gateway's node in every step: none, so the bench measures the gateway with
 * node's defaults, as it is served. --gateway-node-args is for experiments (e.g. --no-memory-reducer: V8's
 * memory reducer does full collections of the ~200 MB of media objects a 200-talker call holds
 * once allocation slows after the joins; in four runs at P = 200 it made no difference to the
 * mute ack tail beyond run-to-run noise, so the gateway is not started with it).
 */
export const GATEWAY_NODE_ARGS: readonly string[] = [];

export const BIGCALL_HELP = `npm run bench -- --profile bigcall [options]

One call of P plain-RTP talkers sending 50 packets/s with the ssrc-audio-level header extension
(a few loud, the rest quiet or silent), everyone also receiving; a sample of receivers is read.
Per P and forwarding mode: join time and refusals, delivery of what should be forwarded, one-way
latency, CPU per mediasoup worker, of the gateway and of the bench, mute ack p50/p99 of quiet
talkers muted during the load, and leak after ack. Full profile: about 5–10 min.

  --talkers LIST            call sizes P (default 25,50,75,100,150,200)
  --forwarding LIST         all, speakers or both (default all,speakers): one table each
  --max-speakers N          speakers mode: forward the N loudest (default 3)
  --silence-dbov N          speakers mode: drop audio quieter than -N dBov (default 50)
  --loud N                  loud talkers, -20 dBov (default 3; at most --max-speakers)
  --sampled-receivers N     receivers the bench reads and analyses (default 8)
  --victims N               quiet talkers that are muted and unmuted (default 4)
  --mutes K                 mute/unmute pairs per step (default 20)
  --talk-while-muted on|off victims send speech (-20 dBov) while muted (default on)
  --audio-level on|off      announce the extension id on join (media.audioLevelExtensionId,
                            default on; packets carry the extension either way)
  --audio-level-id N        its id, 1–14 (default 1)
  --workers N               gateway mediasoup workers (default: the CPU count)
  --steady-seconds S        measured window per step (default 10)
  --warmup-seconds S        after the last join, before the window (default 2)
  --packet-rate PPS         per talker (default 50)
  --payload-bytes B         RTP payload (default 80)
  --join-timeout-ms MS      a join not answered within this stops the step's joins (default 20000)
  --mute-timeout-ms MS      a mute not answered within this counts as timed out (default 5000)
  --mute-client-nice N|off  scheduling priority (nice, -20…19) of the bench thread that sends and
                            times the mutes (default off: the process's; give a negative value as
                            --mute-client-nice=-10)
  --talkers-nice N|off      nice (-20…19) of the bench thread that sends for the unsampled
                            talkers (default off: the process's)
  --gateway-node-args ARGS  options for the gateway's node, e.g. "--no-memory-reducer"
                            (default none: node's defaults)
  --out DIR                 default native-bench/results/bigcall`;

export function bigCallRequested(argv: readonly string[]): boolean {
  return argv.some((a, i) => a === '--profile=bigcall' || (a === '--profile' && argv[i + 1] === 'bigcall'));
}

interface ProfileOptions extends Omit<StepOptions, 'talkers' | 'forwarding' | 'progress'> {
  talkerSteps: number[];
  modes: Forwarding[];
  out: string;
}

function whole(value: string, name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} takes a whole number ${min}–${max}, got "${value}"`);
  return n;
}

function nice(value: string, name: string): number | null {
  if (value === 'off') return null;
  const n = Number(value);
  if (!Number.isInteger(n) || n < -20 || n > 19) throw new Error(`--${name} takes off or a whole number -20–19, got "${value}"`);
  return n;
}

function onOff(value: string, name: string): boolean {
  if (value !== 'on' && value !== 'off') throw new Error(`--${name} is on or off, got "${value}"`);
  return value === 'on';
}

function parse(argv: string[]): ProfileOptions | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      profile: { type: 'string' },
      talkers: { type: 'string', default: '25,50,75,100,150,200' },
      forwarding: { type: 'string', default: 'all,speakers' },
      'max-speakers': { type: 'string', default: '3' },
      'silence-dbov': { type: 'string', default: '50' },
      loud: { type: 'string', default: '3' },
      'sampled-receivers': { type: 'string', default: '8' },
      victims: { type: 'string', default: '4' },
      mutes: { type: 'string', default: '20' },
      'talk-while-muted': { type: 'string', default: 'on' },
      'audio-level': { type: 'string', default: 'on' },
      'audio-level-id': { type: 'string', default: '1' },
      workers: { type: 'string', default: String(cpus().length) },
      'steady-seconds': { type: 'string', default: '10' },
      'warmup-seconds': { type: 'string', default: '2' },
      'packet-rate': { type: 'string', default: '50' },
      'payload-bytes': { type: 'string', default: '80' },
      'join-timeout-ms': { type: 'string', default: '20000' },
      'mute-timeout-ms': { type: 'string', default: '5000' },
      'mute-client-nice': { type: 'string', default: 'off' },
      'talkers-nice': { type: 'string', default: 'off' },
      'gateway-node-args': { type: 'string', default: GATEWAY_NODE_ARGS.join(' ') },
      out: { type: 'string', default: 'native-bench/results/bigcall' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) return null;
  const talkerSteps = (values.talkers as string).split(',').map((v) => whole(v.trim(), 'talkers', 2, 500));
  const maxSpeakers = whole(values['max-speakers'] as string, 'max-speakers', 1, 100);
  const silenceDbov = whole(values['silence-dbov'] as string, 'silence-dbov', 0, 127);
  const modeNames = [...new Set((values.forwarding as string).split(',').map((v) => v.trim()))];
  const modes = modeNames.map((name): Forwarding => {
    if (name === 'all') return { mode: 'all' };
    if (name === 'speakers') return { mode: 'speakers', maxSpeakers, silenceDbov };
    throw new Error(`--forwarding takes all and/or speakers, got "${name}"`);
  });
  const loud = whole(values.loud as string, 'loud', 0, 100);
  // With more loud talkers than forwarded speakers, which ones should arrive is the gateway's choice: not accountable.
  if (modes.some((m) => m.mode === 'speakers') && loud > maxSpeakers) throw new Error(`--loud (${loud}) must be at most --max-speakers (${maxSpeakers}) in speakers mode`);
  return {
    talkerSteps,
    modes,
    loud,
    sampledReceivers: whole(values['sampled-receivers'] as string, 'sampled-receivers', 1, 64),
    victims: whole(values.victims as string, 'victims', 0, 64),
    mutes: whole(values.mutes as string, 'mutes', 0, 1000),
    talkWhileMuted: onOff(values['talk-while-muted'] as string, 'talk-while-muted'),
    audioLevel: onOff(values['audio-level'] as string, 'audio-level'),
    audioLevelExtensionId: whole(values['audio-level-id'] as string, 'audio-level-id', 1, 14),
    workers: whole(values.workers as string, 'workers', 1, 64),
    steadySeconds: whole(values['steady-seconds'] as string, 'steady-seconds', 1, 600),
    warmupSeconds: whole(values['warmup-seconds'] as string, 'warmup-seconds', 0, 600),
    packetsPerSecond: whole(values['packet-rate'] as string, 'packet-rate', 1, 1000),
    payloadBytes: whole(values['payload-bytes'] as string, 'payload-bytes', 20, 1200),
    joinTimeoutMs: whole(values['join-timeout-ms'] as string, 'join-timeout-ms', 100),
    muteTimeoutMs: whole(values['mute-timeout-ms'] as string, 'mute-timeout-ms', 100),
    muteClientNice: nice(values['mute-client-nice'] as string, 'mute-client-nice'),
    talkersNice: nice(values['talkers-nice'] as string, 'talkers-nice'),
    gatewayNodeArgs: (values['gateway-node-args'] as string).split(/\s+/).filter(Boolean),
    out: values.out as string,
  };
}

const progress = (message: string) => process.stderr.write(`[bigcall ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

export async function runBigCallProfile(argv: string[]): Promise<number> {
  let opts: ProfileOptions | null;
  try {
    opts = parse(argv);
  } catch (err) {
    process.stderr.write(`native-bench: ${(err as Error).message}\n\n${BIGCALL_HELP}\n`);
    return 2;
  }
  if (!opts) {
    process.stdout.write(BIGCALL_HELP + '\n');
    return 0;
  }
  const started = Date.now();
  const steps: StepResult[] = [];
  const errors: StepError[] = [];
  const { talkerSteps, modes, out: outDir, ...stepOptions } = opts;
  try {
    for (const forwarding of modes) {
      for (const talkers of talkerSteps) {
        try {
          const step = await runStep({ ...stepOptions, talkers, forwarding, progress });
          steps.push(step);
          progress(
            `${forwarding.mode} P=${talkers}: delivery ${(100 * step.delivery.ratio).toFixed(2)} %, one-way p99 ${step.oneWayMs.p99.toFixed(2)} ms, mute ack p99 ${step.mutes.ackMs.p99.toFixed(2)} ms, leak ${step.mutes.leakAfterAck}${step.failed ? `: fails (${step.failed}), no larger P in this mode` : ''}`,
          );
          if (step.failed) break;
        } catch (err) {
          if (err instanceof IncompatibleGateway) throw err;
          errors.push({ talkers, forwarding, error: (err as Error).message });
          progress(`${forwarding.mode} P=${talkers}: the step did not finish, no larger P in this mode`);
          break;
        }
      }
    }
  } catch (err) {
    if (!(err instanceof IncompatibleGateway)) throw err;
    process.stderr.write(`native-bench: the gateway does not take what the big-call profile sends: ${err.message}\n`);
    return 2;
  }
  const report: BigCallReport = {
    command: `npm run bench -- ${argv.join(' ')}`,
    machine: { cpuModel: cpus()[0]?.model ?? 'unknown', cpuCount: cpus().length, memoryBytes: totalmem(), node: process.version, mediasoup: installedMediasoupVersion() },
    parameters: { talkers: talkerSteps, forwarding: modes, ...stepOptions },
    steps,
    errors,
    durationSeconds: (Date.now() - started) / 1000,
  };
  const out = resolve(outDir);
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'results.json'), JSON.stringify({ tool: 'mutegate native-bench bigcall', startedAt: new Date(started).toISOString(), ...report }, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2));
  const md = bigCallMarkdown(report);
  writeFileSync(join(out, 'results.md'), md);
  process.stdout.write(md);
  process.stdout.write(`\nWrote ${join(out, 'results.json')} and results.md in ${((Date.now() - started) / 1000).toFixed(0)} s.\n`);
  const leaks = steps.reduce((sum, s) => sum + s.mutes.leakAfterAck, 0);
  if (leaks > 0) process.stdout.write(`\n!!!!! LEAK AFTER ACK: ${leaks} packet(s) forwarded after the acknowledgement !!!!!\n`);
  return leaks > 0 ? 1 : 0;
}
