// The network configuration the lab (or a node's /etc/cni/net.d) hands to tycho-cni for one node.
import type { z } from 'zod';
import type { netConfSchema } from './netconf.ts';

export type TychoCniConfig = z.input<typeof netConfSchema>;

export interface CniNode {
  /** Node name as in docs/contracts.md, e.g. `node-1`. */
  name: string;
  /** The node's pod CIDR, e.g. `10.244.0.0/24`. */
  podCidr: string;
  mtu?: number;
}

/** Paths follow docs/contracts.md: `/run/tycho/<node>/agent.sock` and `/run/tycho/<node>/ipam`. */
export function cniConfigFor(node: CniNode, options: { runDir?: string } = {}): TychoCniConfig {
  const nodeDir = `${options.runDir ?? '/run/tycho'}/${node.name}`;
  return {
    cniVersion: '1.0.0',
    name: 'tycho',
    type: 'tycho-cni',
    mtu: node.mtu ?? 1500,
    agentSocket: `${nodeDir}/agent.sock`,
    ipam: { subnet: node.podCidr, gateway: '169.254.1.1', dataDir: `${nodeDir}/ipam` },
  };
}
