import { describe, expect, it } from 'vitest';
import { DomainError } from '../../src/control/errors.js';
import { DEFAULT_RECEIVE_NETWORKS, parseCidr, ReceiveAddressPolicy } from '../../src/control/ReceiveAddressPolicy.js';

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
    return 'accepted';
  } catch (err) {
    return err instanceof DomainError ? err.code : `unexpected ${String(err)}`;
  }
};

describe('ReceiveAddressPolicy', () => {
  const v4 = ReceiveAddressPolicy.forListenIp(DEFAULT_RECEIVE_NETWORKS, '127.0.0.1');
  const v6 = ReceiveAddressPolicy.forListenIp(DEFAULT_RECEIVE_NETWORKS, '::1');

  it.each([
    ['127.0.0.1', 40000, 'accepted'],
    ['10.1.2.3', 5004, 'accepted'],
    ['172.31.255.254', 1024, 'accepted'],
    ['192.168.0.10', 65535, 'accepted'],
    ['172.32.0.1', 40000, 'receiveAddressNotAllowed'], // just outside 172.16.0.0/12
    ['8.8.8.8', 40000, 'receiveAddressNotAllowed'],
    ['0.0.0.0', 40000, 'receiveAddressNotAllowed'],
    ['224.0.0.251', 5353, 'receiveAddressNotAllowed'],
    ['239.255.255.250', 1900, 'receiveAddressNotAllowed'],
    ['255.255.255.255', 40000, 'receiveAddressNotAllowed'],
    ['169.254.169.254', 40000, 'receiveAddressNotAllowed'],
    ['127.0.0.1', 1023, 'receiveAddressNotAllowed'],
    ['127.0.0.1', 0, 'receiveAddressNotAllowed'],
    ['::1', 40000, 'receiveAddressFamily'],
    ['localhost', 40000, 'invalidReceiveAddress'],
  ])('IPv4 media socket: %s:%i → %s', (ip, port, expected) => {
    expect(codeOf(() => v4.check({ ip, port }))).toBe(expected);
  });

  it.each([
    ['::1', 40000, 'accepted'],
    ['fd00::1', 40000, 'accepted'],
    ['::', 40000, 'receiveAddressNotAllowed'],
    ['ff02::1', 40000, 'receiveAddressNotAllowed'],
    ['fe80::1', 40000, 'receiveAddressNotAllowed'],
    ['::ffff:127.0.0.1', 40000, 'receiveAddressNotAllowed'],
    ['2001:4860:4860::8888', 40000, 'receiveAddressNotAllowed'],
    ['127.0.0.1', 40000, 'receiveAddressFamily'],
  ])('IPv6 media socket: %s:%i → %s', (ip, port, expected) => {
    expect(codeOf(() => v6.check({ ip, port }))).toBe(expected);
  });

  it('allows only the configured networks (an empty list allows nothing)', () => {
    const only10 = ReceiveAddressPolicy.forListenIp(['10.0.0.0/8'], '10.0.0.1');
    expect(codeOf(() => only10.check({ ip: '10.9.9.9', port: 40000 }))).toBe('accepted');
    expect(codeOf(() => only10.check({ ip: '127.0.0.1', port: 40000 }))).toBe('receiveAddressNotAllowed');
    const none = ReceiveAddressPolicy.forListenIp([], '127.0.0.1');
    expect(codeOf(() => none.check({ ip: '127.0.0.1', port: 40000 }))).toBe('receiveAddressNotAllowed');
  });

  it('configuring 0.0.0.0/0 still never allows broadcast, multicast or link-local', () => {
    const everything = ReceiveAddressPolicy.forListenIp(['0.0.0.0/0'], '127.0.0.1');
    expect(codeOf(() => everything.check({ ip: '8.8.8.8', port: 40000 }))).toBe('accepted');
    for (const ip of ['255.255.255.255', '224.0.0.1', '169.254.169.254', '0.0.0.0']) {
      expect(codeOf(() => everything.check({ ip, port: 40000 })), ip).toBe('receiveAddressNotAllowed');
    }
  });

  it('rejects malformed CIDR blocks with a clear message', () => {
    for (const bad of ['10.0.0.0', '10.0.0.0/33', 'fc00::/129', 'nonsense/8', '10.0.0.0/8/1', '10.0.0.0/x']) {
      expect(() => parseCidr(bad), bad).toThrow(/is not a CIDR block/);
    }
    expect(parseCidr('fc00::/7')).toEqual({ network: 'fc00::', prefix: 7, family: 'ipv6' });
  });
});
