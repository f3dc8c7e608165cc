import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Call } from '../../src/control/Call.js';
import { CallService, type RosterChange } from '../../src/control/CallService.js';
import type { CallMedia, CallMediaOptions, SpeakerSignal } from '../../src/control/mediaPlane.js';
import type { RtpMediaSpec } from '../../src/control/Participant.js';
import { DOMINANT_SPEAKER_MIN_INTERVAL_MS } from '../../src/control/SpeakerSignals.js';
import { rejection, user } from '../helpers/domainFixtures.js';
import { FakeMediaPlane } from '../helpers/fakeMediaPlane.js';

const media = (ssrc: number): RtpMediaSpec => ({ kind: 'rtp', payloadType: 100, ssrc, audioLevelExtensionId: 1 });

/** A fake media plane whose calls also emit speaker signals on demand, and that records the options it got. */
class SignalingPlane extends FakeMediaPlane {
  readonly options: CallMediaOptions[] = [];
  private readonly emitters = new Map<string, (signal: SpeakerSignal) => void>();

  override async openCall(callId: string, options: CallMediaOptions = {}): Promise<CallMedia> {
    this.options.push(options);
    const callMedia = await super.openCall(callId);
    const listeners: ((signal: SpeakerSignal) => void)[] = [];
    this.emitters.set(callId, (signal) => listeners.forEach((l) => l(signal)));
    return Object.assign(callMedia, { onSpeakerSignal: (l: (signal: SpeakerSignal) => void) => listeners.push(l) });
  }

  signal(callId: string, signal: SpeakerSignal): void {
    this.emitters.get(callId)?.(signal);
  }
}

describe('speaker signals and forwarding settings (control plane, no worker)', () => {
  let plane: SignalingPlane;
  let service: CallService;
  let changes: { call: Call; change: RosterChange }[];

  beforeEach(() => {
    plane = new SignalingPlane();
    service = new CallService(plane, {
      operationsPerCall: 10,
      forwarding: { mode: 'auto', speakersFrom: 20, maxSpeakers: 4, silenceDbov: 40 },
      forwardingDefaults: { maxSpeakers: 4, silenceDbov: 40, speakersFrom: 20 },
    });
    changes = [];
    service.on('roster', (call, change) => changes.push({ call, change }));
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const updatesOf = (id: string) => changes.filter(({ change }) => change.kind === 'updated' && change.participant.id === id);

  it('gives the media the call forwarding: as asked (absent fields from the defaults), else the configured default', async () => {
    const asked = await service.createCall({ forwarding: { mode: 'speakers', maxSpeakers: 2 } });
    expect(asked.forwarding).toEqual({ mode: 'speakers', maxSpeakers: 2, silenceDbov: 40 });
    const defaulted = await service.createCall({});
    expect(defaulted.forwarding).toEqual({ mode: 'auto', speakersFrom: 20, maxSpeakers: 4, silenceDbov: 40 });
    expect(plane.options.map((o) => o.forwarding?.mode)).toEqual(['speakers', 'auto']);
    for (const forwarding of [{ mode: 'speakers', maxSpeakers: 0 }, { mode: 'nobody' }, 'all', { mode: 'speakers', silenceDbov: 1.5 }]) {
      expect((await rejection(service.createCall({ forwarding }))).code).toBe('invalidForwarding');
    }
    expect(plane.options).toHaveLength(2); // refused before any media was opened
  });

  it('shows talkingWhileMuted only for a muted participant, and tells the roster only on a change', async () => {
    const call = await service.createCall({});
    const alice = await service.addParticipant(call.id, { identity: user('alice'), media: media(1) });
    const talking = (on: boolean) => plane.signal(call.id, { kind: 'talkingWhileMuted', participantId: alice.id, talking: on });

    talking(true); // not muted: nothing to show
    expect(alice.talkingWhileMuted).toBe(false);
    expect(updatesOf(alice.id)).toHaveLength(0);
    talking(false);

    await service.muteParticipant(call.id, alice.id);
    const afterMute = updatesOf(alice.id).length;
    talking(true);
    talking(true);
    expect(alice.talkingWhileMuted).toBe(true);
    expect(updatesOf(alice.id)).toHaveLength(afterMute + 1);
    talking(false);
    expect(alice.talkingWhileMuted).toBe(false);
    expect(updatesOf(alice.id)).toHaveLength(afterMute + 2);

    // Unmuting shows false at once, whatever the media said last.
    talking(true);
    await service.unmuteParticipant(call.id, alice.id);
    expect(alice.talkingWhileMuted).toBe(false);
    expect(updatesOf(alice.id).at(-1)?.change.kind).toBe('updated');
  });

  it('changes the dominant speaker at most once per interval, the latest one winning', async () => {
    vi.useFakeTimers();
    const call = await service.createCall({});
    const a = await service.addParticipant(call.id, { identity: user('a'), media: media(1) });
    const b = await service.addParticipant(call.id, { identity: user('b'), media: media(2) });
    const c = await service.addParticipant(call.id, { identity: user('c'), media: media(3) });
    const dominant = (id: string) => plane.signal(call.id, { kind: 'dominantSpeaker', participantId: id });

    dominant(a.id);
    expect(call.dominantSpeaker()).toBe(a);
    expect(a.dominantSpeaker).toBe(true);
    expect(updatesOf(a.id)).toHaveLength(1);
    dominant(b.id);
    dominant(c.id);
    expect(call.dominantSpeaker()).toBe(a); // too soon
    vi.advanceTimersByTime(DOMINANT_SPEAKER_MIN_INTERVAL_MS);
    expect(call.dominantSpeaker()).toBe(c);
    expect([a.dominantSpeaker, b.dominantSpeaker, c.dominantSpeaker]).toEqual([false, false, true]);
    expect(updatesOf(b.id)).toHaveLength(0);
    expect(updatesOf(a.id)).toHaveLength(2);
    expect(updatesOf(c.id)).toHaveLength(1);
    // The same one again changes nothing.
    vi.advanceTimersByTime(DOMINANT_SPEAKER_MIN_INTERVAL_MS);
    dominant(c.id);
    expect(updatesOf(c.id)).toHaveLength(1);
  });
});
