/**
 * Starts Debian's Janus (package `janus`, 1.1.x) for the bench: a configuration generated in a
 * temporary directory with only the VideoRoom plugin and the plain-HTTP transport, listening on
 * 127.0.0.1, admin API off. The process never outlives the bench: it is killed on stop(), and on
 * the bench's exit or SIGINT/SIGTERM if stop() was never reached.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './freePort.js';

export interface JanusProcess {
  /** Base URL of the Janus HTTP API, e.g. http://127.0.0.1:41234/janus. */
  apiUrl: string;
  pid: number;
  /** As /janus/info reports it, e.g. "1.1.2". */
  version: string;
  stop(): Promise<void>;
}

export interface JanusProcessOptions {
  /** Port range of the Janus core's RTP (ICE) sockets; the bench's remote publishers use ports from it too. */
  rtpMinPort: number;
  rtpMaxPort: number;
}

const JANUS_BIN_CANDIDATES = ['/usr/bin/janus', '/usr/local/bin/janus', '/opt/janus/bin/janus'];
/** Where the Debian package (or a source install) puts plugins/, transports/, loggers/, events/. */
const LIB_DIR_CANDIDATES = [
  `/usr/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu/janus`,
  '/usr/lib/janus',
  '/usr/local/lib/janus',
  '/opt/janus/lib/janus',
];
const KEEP_PLUGIN = /^libjanus_videoroom\.so/;
const KEEP_TRANSPORT = /^libjanus_http\.so/;
const STARTUP_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;

/** The janus binary, or null when the package is not installed. */
export function findJanus(): { bin: string; libDir: string } | null {
  const bin = JANUS_BIN_CANDIDATES.find((p) => existsSync(p));
  const libDir = LIB_DIR_CANDIDATES.find((d) => existsSync(join(d, 'plugins')) && readdirSync(join(d, 'plugins')).some((f) => KEEP_PLUGIN.test(f)));
  return bin && libDir ? { bin, libDir } : null;
}

/**
 * Janus loads every shared object in its folders unless told otherwise, and only knows a
 * "disable" list: list everything but what the bench needs.
 */
function disableAllBut(dir: string, keep: RegExp | null): string {
  if (!existsSync(dir)) return '';
  const names = readdirSync(dir)
    .filter((f) => /\.so(\.|$)/.test(f) && !(keep && keep.test(f)))
    .map((f) => f.replace(/\.so.*$/, '.so'));
  return [...new Set(names)].join(',');
}

function writeConfig(dir: string, libDir: string, httpPort: number, opts: JanusProcessOptions): void {
  const q = (s: string) => JSON.stringify(s);
  writeFileSync(
    join(dir, 'janus.jcfg'),
    `general: {
	configs_folder = ${q(dir)}
	plugins_folder = ${q(join(libDir, 'plugins'))}
	transports_folder = ${q(join(libDir, 'transports'))}
	events_folder = ${q(join(libDir, 'events'))}
	loggers_folder = ${q(join(libDir, 'loggers'))}
	debug_level = 3
	server_name = "mutegate-native-bench"
	session_timeout = 60
}
media: {
	rtp_port_range = "${opts.rtpMinPort}-${opts.rtpMaxPort}"
}
nat: {
	ice_enforce_list = "lo"
}
plugins: {
	disable = ${q(disableAllBut(join(libDir, 'plugins'), KEEP_PLUGIN))}
}
transports: {
	disable = ${q(disableAllBut(join(libDir, 'transports'), KEEP_TRANSPORT))}
}
loggers: {
	disable = ${q(disableAllBut(join(libDir, 'loggers'), null))}
}
events: {
	broadcast = false
	disable = ${q(disableAllBut(join(libDir, 'events'), null))}
}
`,
  );
  writeFileSync(
    join(dir, 'janus.transport.http.jcfg'),
    `general: {
	json = "compact"
	base_path = "/janus"
	http = true
	port = ${httpPort}
	ip = "127.0.0.1"
	https = false
}
admin: {
	admin_http = false
	admin_https = false
}
`,
  );
  // No static rooms: the bench creates its own (not permanent, so nothing is written back here).
  writeFileSync(join(dir, 'janus.plugin.videoroom.jcfg'), 'general: {\n}\n');
}

function logTail(logFile: string, lines = 20): string {
  try {
    return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Starts Janus and waits until its HTTP API answers GET /janus/info. */
export async function startJanusProcess(opts: JanusProcessOptions): Promise<JanusProcess> {
  const found = findJanus();
  if (!found) throw new Error('janus is not installed (Debian package "janus"): run scripts/setup.sh --bench');
  const dir = mkdtempSync(join(tmpdir(), 'mutegate-janus-'));
  const httpPort = await freePort();
  writeConfig(dir, found.libDir, httpPort, opts);
  const logFile = join(dir, 'janus.log');
  // -N -L: log to a file only (read back when something fails), -o: no colour codes in it.
  const child: ChildProcess = spawn(found.bin, ['-F', dir, '-N', '-L', logFile, '-o'], { stdio: 'ignore' });
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  // If the bench exits or is interrupted before stop(): never leave Janus running.
  const onExit = () => {
    kill();
    removeDir();
  };
  const onSignal = (signal: NodeJS.Signals) => {
    onExit();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('exit', onExit);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const forget = () => {
    process.off('exit', onExit);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    removeDir();
  };
  let spawnError: Error | null = null;
  child.once('error', (err) => (spawnError = err));

  const apiUrl = `http://127.0.0.1:${httpPort}/janus`;
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  let version = 'unknown';
  for (;;) {
    if (spawnError || child.exitCode !== null || child.signalCode !== null) {
      const why = spawnError ? (spawnError as Error).message : `exited with ${child.exitCode ?? child.signalCode}`;
      const log = logTail(logFile);
      forget();
      throw new Error(`janus ${why}:\n${log}`);
    }
    try {
      const res = await fetch(`${apiUrl}/info`);
      if (res.ok) {
        version = String(((await res.json()) as { version_string?: string }).version_string ?? version);
        break;
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      const log = logTail(logFile);
      kill();
      forget();
      throw new Error(`janus did not answer ${apiUrl}/info within ${STARTUP_TIMEOUT_MS / 1000} s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    apiUrl,
    pid: child.pid as number,
    version,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const timer = setTimeout(kill, STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }
      forget();
    },
  };
}
