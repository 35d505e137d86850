// Whether a connection comes from a proxy whose forwarding headers (X-Forwarded-For and the like) may be kept:
// TRUST_PROXY as config.ts read it, every address, none, or the subnets it names.
import net from 'node:net';
import type { TrustProxy } from '../core/config.js';

const IPV4_MAPPED = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/** A test of a client's address (`socket.remoteAddress`) against TRUST_PROXY. */
export function trustedProxyCheck(trustProxy: TrustProxy): (address: string | undefined) => boolean {
  if (typeof trustProxy === 'boolean') return () => trustProxy;
  const subnets = new net.BlockList();
  for (const { address, prefix, family } of trustProxy) subnets.addSubnet(address, prefix, family);
  return (address) => {
    if (address === undefined) return false;
    const mapped = IPV4_MAPPED.exec(address)?.[1];
    if (mapped) return subnets.check(mapped, 'ipv4');
    return subnets.check(address, net.isIPv6(address) ? 'ipv6' : 'ipv4');
  };
}
