import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LAB_NODES, NODE_UPLINK, UNDERLAY, type LabNode } from './nodes.ts';
import { NETNS_DIR } from './paths.ts';
import { ip, sysctlIn } from './systemCommand.ts';
import { WORLD_HOSTS, WORLD_NETNS, WORLD_RANGES, WORLD_ROUTER_IP } from './world.ts';

/** Name of the world router's port on the underlay bridge. */
const WORLD_UNDERLAY_PORT = 'world';

export function netnsExists(name: string): boolean {
  return existsSync(join(NETNS_DIR, name));
}

async function addNetns(name: string): Promise<void> {
  await ip(['netns', 'add', name]);
  await ip(['link', 'set', 'lo', 'up'], name);
}

/** A veth from the underlay bridge into `netns`, where it is called eth0 and gets `address`. */
async function plugIntoUnderlay(port: string, netns: string, address: string): Promise<void> {
  await ip(['link', 'add', port, 'type', 'veth', 'peer', 'name', NODE_UPLINK, 'netns', netns], UNDERLAY.netns);
  await ip(['link', 'set', port, 'master', UNDERLAY.bridge, 'up'], UNDERLAY.netns);
  await ip(['addr', 'add', `${address}/${UNDERLAY.prefixLength}`, 'dev', NODE_UPLINK], netns);
  await ip(['link', 'set', NODE_UPLINK, 'up'], netns);
}

async function buildNode(node: LabNode): Promise<void> {
  await addNetns(node.netns);
  await plugIntoUnderlay(node.underlayPort, node.netns, node.ip);
  await sysctlIn(node.netns, 'net.ipv4.ip_forward', '1');
  for (const other of LAB_NODES) {
    if (other !== node) await ip(['route', 'add', other.podCidr, 'via', other.ip, 'dev', NODE_UPLINK], node.netns);
  }
  for (const range of WORLD_RANGES) await ip(['route', 'add', range, 'via', WORLD_ROUTER_IP, 'dev', NODE_UPLINK], node.netns);
  // Like any node, a default gateway (the world router, which drops what it has
  // no host for). Pods' gateway 169.254.1.1 is answered by proxy ARP on the
  // host veth, and the kernel only proxies for addresses it has a route to.
  await ip(['route', 'add', 'default', 'via', WORLD_ROUTER_IP, 'dev', NODE_UPLINK], node.netns);
}

async function buildWorld(): Promise<void> {
  await addNetns(WORLD_NETNS);
  await plugIntoUnderlay(WORLD_UNDERLAY_PORT, WORLD_NETNS, WORLD_ROUTER_IP);
  // The hosts' addresses sit on the world's loopback (the kernel may lack the dummy driver).
  for (const host of WORLD_HOSTS) await ip(['addr', 'add', `${host.ip}/32`, 'dev', 'lo'], WORLD_NETNS);
  for (const node of LAB_NODES) await ip(['route', 'add', node.podCidr, 'via', node.ip, 'dev', NODE_UPLINK], WORLD_NETNS);
}

/**
 * Builds the lab network, entirely inside namespaces it creates:
 *
 *   tycho-underlay: bridge br0 (172.18.0.0/24), 172.18.0.1 on it for the API server and Prometheus
 *     ├─ node-1 ⇄ tycho-node-1 eth0 172.18.0.2   routes 10.244.1.0/24 via .3, RFC 5737 and default via .100
 *     ├─ node-2 ⇄ tycho-node-2 eth0 172.18.0.3   routes 10.244.0.0/24 via .2, RFC 5737 and default via .100
 *     └─ world  ⇄ tycho-world  eth0 172.18.0.100, world hosts on lo; pod CIDRs via the nodes
 *
 * Nodes forward (ip_forward=1) and reach each other's pods by direct routing.
 */
export async function buildTopology(): Promise<void> {
  await addNetns(UNDERLAY.netns);
  await ip(['link', 'add', UNDERLAY.bridge, 'type', 'bridge'], UNDERLAY.netns);
  await ip(['addr', 'add', `${UNDERLAY.gateway}/${UNDERLAY.prefixLength}`, 'dev', UNDERLAY.bridge], UNDERLAY.netns);
  await ip(['link', 'set', UNDERLAY.bridge, 'up'], UNDERLAY.netns);
  for (const node of LAB_NODES) await buildNode(node);
  await buildWorld();
}

/** Whether `name` is a namespace the lab made (and may delete). */
export function isLabNetns(name: string): boolean {
  return (
    name === UNDERLAY.netns ||
    name === WORLD_NETNS ||
    /^tycho-node-[0-9a-z-]+$/.test(name) ||
    name.startsWith('tycho-pod-')
  );
}
