/**
 * The lab's two nodes and the underlay that joins them (addresses as agreed in
 * docs/contracts.md). Each node is a network namespace; pods on a node get /32
 * addresses from the node's pod CIDR, and nodes reach each other's pods by
 * direct routing over the underlay bridge.
 */
export interface LabNode {
  /** Kubernetes node name, also the agent's `--node`. */
  readonly name: string;
  readonly netns: string;
  /** Address on the underlay bridge (the node's InternalIP). */
  readonly ip: string;
  readonly podCidr: string;
  /** Name of the node's veth end inside the underlay namespace. */
  readonly underlayPort: string;
}

export const UNDERLAY = {
  netns: 'tycho-underlay',
  bridge: 'br0',
  cidr: '172.18.0.0/24',
  prefixLength: 24,
  /** The bridge's own address: services the nodes reach (the API server, Prometheus) listen on it inside the underlay. */
  gateway: '172.18.0.1',
} as const;

export const LAB_NODES: readonly LabNode[] = [
  { name: 'node-1', netns: 'tycho-node-1', ip: '172.18.0.2', podCidr: '10.244.0.0/24', underlayPort: 'node-1' },
  { name: 'node-2', netns: 'tycho-node-2', ip: '172.18.0.3', podCidr: '10.244.1.0/24', underlayPort: 'node-2' },
];

/** The interface name of a node's (and the world router's) link to the underlay. */
export const NODE_UPLINK = 'eth0';

export function labNode(name: string): LabNode {
  const node = LAB_NODES.find((n) => n.name === name);
  if (!node) throw new Error(`lab: unknown node '${name}' (lab nodes: ${LAB_NODES.map((n) => n.name).join(', ')})`);
  return node;
}
