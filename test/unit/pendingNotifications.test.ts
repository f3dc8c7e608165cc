import { describe, expect, it } from 'vitest';
import type { RosterChange } from '../../src/control/CallService.js';
import type { CommsNotifications } from '../../src/api/graph/notifications.js';
import { PendingNotifications, type PendingNotification } from '../../src/api/webhooks/PendingNotifications.js';

let sequence = 0;
const item = (kind: RosterChange['kind'], participantId = ''): PendingNotification => ({
  kind,
  participantId,
  notification: { '@mutegate.sequence': ++sequence } as unknown as CommsNotifications,
});
const queued = (q: PendingNotifications) => {
  const out: string[] = [];
  while (q.length > 0) {
    const head = q.head() as PendingNotification;
    out.push(`${head.kind}:${head.participantId}`);
    q.shift();
  }
  return out;
};

describe('PendingNotifications (webhook queue of one call)', () => {
  it('keeps every change while the receiver keeps up (less than half full)', () => {
    const q = new PendingNotifications(10);
    for (let i = 0; i < 4; i++) expect(q.push(item('updated', 'alice'), false)).toEqual({ superseded: 0, dropped: 0 });
    expect(queued(q)).toEqual(Array(4).fill('updated:alice'));
  });

  it('keeps one state update per participant, in sequence order', () => {
    const q = new PendingNotifications(4);
    q.push(item('joined', 'alice'), true);
    q.push(item('joined', 'bob'), true);
    let superseded = 0;
    for (let i = 0; i < 50; i++) superseded += q.push(item('updated', 'mallory'), true).superseded;
    q.push(item('updated', 'bob'), true);
    superseded += q.push(item('updated', 'mallory'), true).superseded;
    expect(superseded).toBe(50);
    expect(queued(q)).toEqual(['joined:alice', 'joined:bob', 'updated:bob', 'updated:mallory']);
  });

  it('never touches the head while it is being delivered', () => {
    const q = new PendingNotifications(2);
    q.push(item('updated', 'mallory'), false);
    expect(q.push(item('updated', 'mallory'), true).superseded).toBe(0);
    expect(queued(q)).toEqual(['updated:mallory', 'updated:mallory']);
  });

  it('a leave cancels a join the receiver has not heard (a rejoin loop holds no places)', () => {
    const q = new PendingNotifications(4);
    q.push(item('joined', 'bob'), false);
    q.push(item('joined', 'carol'), false);
    for (let leg = 1; leg <= 100; leg++) {
      q.push(item('joined', `mallory-${leg}`), true);
      q.push(item('updated', `mallory-${leg}`), true);
      q.push(item('left', `mallory-${leg}`), true);
    }
    expect(queued(q)).toEqual(['joined:bob', 'joined:carol']);
  });

  it('a leave of an announced participant replaces what is queued about it', () => {
    const q = new PendingNotifications(4);
    q.push(item('updated', 'alice'), false);
    q.push(item('updated', 'bob'), false);
    q.push(item('left', 'bob'), false);
    expect(queued(q)).toEqual(['updated:alice', 'left:bob']);
  });

  it('when full, drops the oldest state update and never the end of the call', () => {
    const q = new PendingNotifications(3);
    q.push(item('joined', 'a'), false);
    q.push(item('updated', 'a'), false);
    q.push(item('joined', 'b'), false);
    expect(q.push(item('joined', 'c'), false).dropped).toBe(1); // the update of a goes
    expect(q.push(item('joined', 'd'), false).dropped).toBe(1); // nothing droppable: the new one goes
    q.push(item('callEnded'), false);
    expect(queued(q)).toEqual(['joined:a', 'joined:b', 'joined:c', 'callEnded:']);
  });
});
