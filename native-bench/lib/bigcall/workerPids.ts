import { readFileSync } from 'node:fs';
import { childPids } from '../procCpu.js';

/**
 * The gateway's mediasoup workers: its child processes whose command line names the worker
 * binary (a gateway run through tsx also has esbuild's service as a child, which is not one).
 */
export function mediasoupWorkerPids(gatewayPid: number): number[] {
  return childPids(gatewayPid).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('mediasoup-worker');
    } catch {
      return false;
    }
  });
}
