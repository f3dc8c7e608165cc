import { randomUUID } from 'node:crypto';

export type OperationType =
  | 'muteParticipant'
  | 'unmuteParticipant'
  | 'muteAll'
  | 'lockParticipant'
  | 'unlockParticipant'
  | 'deafenParticipant'
  | 'undeafenParticipant'
  | 'requestUnmute';

/** One participant's outcome in a call-wide operation (mute all). */
export interface ParticipantResult {
  participantId: string;
  status: 'completed' | 'failed';
  operationId?: string;
  resultInfo?: OperationResultInfo;
}
export type OperationStatus = 'running' | 'completed' | 'failed';

export interface OperationResultInfo {
  code: number;
  subcode: number;
  message: string;
}

/** A mute or unmute request and its outcome, kept so clients can look it up later (Graph operations). */
export interface Operation {
  readonly id: string;
  readonly type: OperationType;
  readonly callId: string;
  readonly participantId: string;
  readonly clientContext?: string;
  status: OperationStatus;
  readonly createdDateTime: Date;
  lastActionDateTime: Date;
  resultInfo?: OperationResultInfo;
  /** Mute all: every participant's outcome. */
  results?: ParticipantResult[];
  /**
   * Order in which the call's operations finished (1, 2, …). Operations on one participant run
   * one at a time, so the highest finished one is the one whose result stands.
   */
  finishedSequence?: number;
}

/** participantId is "" for call-wide operations (mute all). */
export function newOperation(type: OperationType, callId: string, participantId: string, clientContext?: string): Operation {
  const now = new Date();
  return {
    id: randomUUID(),
    type,
    callId,
    participantId,
    ...(clientContext !== undefined ? { clientContext } : {}),
    status: 'running',
    createdDateTime: now,
    lastActionDateTime: now,
  };
}

/** The operations of one call, newest kept: past `capacity` the oldest record is dropped. */
export class OperationStore {
  private readonly byId = new Map<string, Operation>();

  constructor(private readonly capacity: number) {}

  add(operation: Operation): void {
    this.byId.set(operation.id, operation);
    if (this.byId.size > this.capacity) {
      // Maps iterate in insertion order: the first key is the oldest.
      const oldest = this.byId.keys().next().value;
      if (oldest !== undefined) this.byId.delete(oldest);
    }
  }

  /** Oldest first. */
  values(): IterableIterator<Operation> {
    return this.byId.values();
  }

  get(id: string): Operation | undefined {
    return this.byId.get(id);
  }

  get size(): number {
    return this.byId.size;
  }
}
