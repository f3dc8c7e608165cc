// Worker threads do not inherit the main thread's `--import tsx` hooks: register tsx here, then
// run the TypeScript module named in workerData.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.module);
