import { BlockList, isIP } from 'node:net';
import { DomainError } from './errors.js';
import type { TransportAddress } from './mediaPlane.js';

/** Loopback and private ranges: the embedded default, for a gateway on a private network. */
export const DEFAULT_RECEIVE_NETWORKS: readonly string[] = ['127.0.0.0/8', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '::1/128', 'fc00::/7'];

/** Ports below this are services (DNS 53, HTTP 80, …), never an RTP receiver. */
export const MIN_RECEIVE_PORT = 1024;

type Family = 'ipv4' | 'ipv6';

/**
 * Addresses that can never be a participant's RTP receiver, whatever the configuration: sending
 * there would turn the SFU into a reflector (broadcast, multicast) or reach something that is not
 * a peer (unspecified, link-local such as 169.254.169.254, the cloud metadata service).
 */
const NEVER: readonly [string, number, Family][] = [
  ['0.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'],
  ['224.0.0.0', 4, 'ipv4'],
  ['240.0.0.0', 4, 'ipv4'], // reserved, and 255.255.255.255 (limited broadcast)
  ['::', 128, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
  ['::ffff:0:0', 96, 'ipv6'], // IPv4-mapped: checked as the IPv4 address it names, never by this form
];

const refused = (code: string, message: string) => new DomainError('invalidRequest', code, message);

/** Parses "a.b.c.d/n" or "x::/n"; throws a clear Error for a malformed entry (a config mistake). */
export function parseCidr(cidr: string): { network: string; prefix: number; family: Family } {
  const [network = '', prefixText, extra] = cidr.split('/');
  const version = isIP(network);
  const prefix = Number(prefixText);
  const max = version === 4 ? 32 : 128;
  if (version === 0 || extra !== undefined || prefixText === undefined || !/^\d{1,3}$/.test(prefixText) || prefix > max) {
    throw new Error(`"${cidr}" is not a CIDR block (e.g. 10.0.0.0/8 or fc00::/7)`);
  }
  return { network, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/**
 * Where the SFU may send a participant's audio when the request names the address (`receive`):
 * only inside the configured networks (media.receiveNetworks), never to the addresses above, on
 * a port ≥ 1024, and in the address family the media sockets listen on.
 */
export class ReceiveAddressPolicy {
  private readonly allowed = new BlockList();
  /** One list per family: node's BlockList matches IPv4 addresses against IPv4-mapped IPv6 subnets. */
  private readonly never = { ipv4: new BlockList(), ipv6: new BlockList() };

  constructor(
    networks: readonly string[],
    /** The family of media.listenIp: an IPv4 socket cannot send to an IPv6 address and vice versa. */
    private readonly listenFamily: Family,
  ) {
    for (const cidr of networks) {
      const { network, prefix, family } = parseCidr(cidr);
      this.allowed.addSubnet(network, prefix, family);
    }
    for (const [network, prefix, family] of NEVER) this.never[family].addSubnet(network, prefix, family);
  }

  static forListenIp(networks: readonly string[], listenIp: string): ReceiveAddressPolicy {
    return new ReceiveAddressPolicy(networks, isIP(listenIp) === 6 ? 'ipv6' : 'ipv4');
  }

  /** Throws a 400-kind DomainError saying why, or returns the address as given. */
  check(address: TransportAddress): TransportAddress {
    const version = isIP(address.ip);
    if (version === 0) throw refused('invalidReceiveAddress', `receive.ip "${address.ip}" is not an IP address`);
    const family: Family = version === 4 ? 'ipv4' : 'ipv6';
    if (family !== this.listenFamily) {
      throw refused(
        'receiveAddressFamily',
        `receive.ip ${address.ip} is ${family === 'ipv4' ? 'IPv4' : 'IPv6'} but the media sockets listen on ${this.listenFamily === 'ipv4' ? 'IPv4' : 'IPv6'}`,
      );
    }
    if (this.never[family].check(address.ip, family)) {
      throw refused(
        'receiveAddressNotAllowed',
        `receive.ip ${address.ip} is an unspecified, broadcast, multicast, link-local, reserved or IPv4-mapped address; media is sent to one unicast peer only`,
      );
    }
    if (!this.allowed.check(address.ip, family)) {
      throw refused('receiveAddressNotAllowed', `receive.ip ${address.ip} is outside the networks media may be sent to (media.receiveNetworks)`);
    }
    if (!Number.isInteger(address.port) || address.port < MIN_RECEIVE_PORT || address.port > 65535) {
      throw refused('receiveAddressNotAllowed', `receive.port ${address.port} is not allowed: RTP receivers use ports ${MIN_RECEIVE_PORT}–65535`);
    }
    return address;
  }
}
