// The veth pair that attaches a pod: `lxc<hash>` in the node namespace, CNI_IFNAME in the pod.
//
// Pods get a /32 and reach everything through 169.254.1.1, an address nobody owns: the host side
// answers ARP for it (proxy_arp), and the node routes each pod /32 to its host-side veth.
import { createHash } from 'node:crypto';
import { findLink, ip, NetlinkError, setInterfaceSysctl, type Link } from './netlink.ts';

/** `lxc` + 11 hex characters of sha256(containerId): stable, unique enough, within IFNAMSIZ. */
export function hostIfnameFor(containerId: string): string {
  return `lxc${createHash('sha256').update(containerId).digest('hex').slice(0, 11)}`;
}

export interface VethPairSpec {
  hostIfname: string;
  podIfname: string;
  podNetnsPath: string;
  mtu: number;
}

/** Creates both ends at once: the pod end is born inside the pod namespace. Fails if either name is taken. */
export async function createVethPair(spec: VethPairSpec): Promise<void> {
  const mtu = String(spec.mtu);
  await ip(['link', 'add', spec.hostIfname, 'mtu', mtu, 'type', 'veth', 'peer', 'name', spec.podIfname, 'mtu', mtu, 'netns', spec.podNetnsPath]);
}

export interface PodSideSpec {
  podIfname: string;
  podNetnsPath: string;
  ipv4: string;
  gateway: string;
}

export async function configurePodSide(spec: PodSideSpec): Promise<void> {
  const target = { netnsPath: spec.podNetnsPath };
  await ip(['link', 'set', 'dev', spec.podIfname, 'up'], target);
  await ip(['addr', 'add', `${spec.ipv4}/32`, 'dev', spec.podIfname], target);
  await ip(['route', 'add', spec.gateway, 'dev', spec.podIfname, 'scope', 'link'], target);
  await ip(['route', 'add', 'default', 'via', spec.gateway, 'dev', spec.podIfname], target);
}

export async function configureHostSide(spec: { hostIfname: string; ipv4: string }): Promise<void> {
  await ip(['link', 'set', 'dev', spec.hostIfname, 'up']);
  await setInterfaceSysctl(spec.hostIfname, 'proxy_arp', '1');
  await ip(['route', 'add', `${spec.ipv4}/32`, 'dev', spec.hostIfname]);
}

/** Deleting the host end removes the pod end and both ends' routes; returns false if it was already gone. */
export async function deleteHostVeth(hostIfname: string): Promise<boolean> {
  try {
    await ip(['link', 'del', 'dev', hostIfname]);
    return true;
  } catch (error) {
    if (error instanceof NetlinkError && error.isMissingDevice) return false;
    throw error;
  }
}

export function findHostLink(hostIfname: string): Promise<Link | undefined> {
  return findLink(hostIfname);
}

export function findPodLink(podIfname: string, podNetnsPath: string): Promise<Link | undefined> {
  return findLink(podIfname, { netnsPath: podNetnsPath });
}
