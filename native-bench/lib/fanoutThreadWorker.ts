/** A fan-out thread: holds a share of the WebSocket subscribers (see SubscriberSet). */
import { serveThread } from './serveThread.js';
import { SubscriberSet } from './SubscriberSet.js';

export type FanoutCommand =
  | { op: 'connect'; baseUrl: string; callId: string; count: number; token: string; firstIndex: number }
  | { op: 'collect'; ackAt: number[] }
  | { op: 'close' };

let set: SubscriberSet | null = null;

serveThread<FanoutCommand>(async (cmd) => {
  switch (cmd.op) {
    case 'connect':
      set = await SubscriberSet.connect(cmd.baseUrl, cmd.callId, cmd.count, cmd.token, cmd.firstIndex);
      return null;
    case 'collect':
      return set?.collect(cmd.ackAt) ?? { latencyMs: { json: [], proto: [] }, bytes: { json: [], proto: [] }, missing: 0 };
    case 'close':
      set?.close();
      set = null;
      return null;
  }
});
