/**
 * The simulated Internet. The connectivity-check probes "external" hosts
 * (upstream: 1.1.1.1 and www.google.com). The lab never lets traffic leave
 * the machine: external hosts live in the `tycho-world` namespace at
 * documentation addresses (RFC 5737), and the lab DNS answers their names.
 *
 * | name              | address        | range (RFC 5737)   |
 * |-------------------|----------------|--------------------|
 * | one.one.one.one   | 192.0.2.11     | TEST-NET-1         |
 * | www.google.com    | 198.51.100.14  | TEST-NET-2         |
 * | example.com       | 203.0.113.10   | TEST-NET-3         |
 *
 * `example.com` is not probed by the connectivity-check; it is there so that an
 * FQDN policy allowing only `*.google.com` has a name to deny.
 *
 * Each host serves HTTP on port 80, and plain HTTP on 443 too (no TLS in the
 * lab: an `https://` probe URL is fetched as plain HTTP on port 443).
 */
export interface WorldHost {
  readonly name: string;
  readonly ip: string;
}

export const WORLD_NETNS = 'tycho-world';

/** The world router's address on the underlay; nodes route the RFC 5737 ranges to it. */
export const WORLD_ROUTER_IP = '172.18.0.100';

/** The three RFC 5737 documentation ranges. */
export const WORLD_RANGES = ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24'] as const;

export const WORLD_HOSTS: readonly WorldHost[] = [
  { name: 'one.one.one.one', ip: '192.0.2.11' },
  { name: 'www.google.com', ip: '198.51.100.14' },
  { name: 'example.com', ip: '203.0.113.10' },
];

/** Ports the world hosts answer HTTP on. */
export const WORLD_HTTP_PORTS = [80, 443] as const;
