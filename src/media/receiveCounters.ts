import type { types } from 'mediasoup';

/**
 * What the worker has received from a producer so far, summed over its streams: RTP packets and
 * their bytes. The worker counts a packet before it checks whether the producer is paused, so
 * these rise while a participant is muted too (see MediaEndpoint, MutedSpeechDetector).
 */
export async function receiveCounters(producer: types.Producer): Promise<{ packets: number; bytes: number }> {
  const stats = await producer.getStats();
  return {
    packets: stats.reduce((sum, stat) => sum + stat.packetCount, 0),
    bytes: stats.reduce((sum, stat) => sum + stat.byteCount, 0),
  };
}
