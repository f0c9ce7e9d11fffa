// The node's network policy maps in the kernel (bpf/lib/policy.h, part of
// bpf_lxc.o): the ipcache, the policy map and the per-endpoint policy flags.
// NodeDatapath.open() creates and pins them with the endpoint programs;
// PolicyMaps opens the pins, so the agent's policy writer needs no handle
// on the loaded object.
import { join } from 'node:path';

import { addon } from './addon.ts';
import { BpfMap } from './bpfMap.ts';
import type { BpfObject } from './bpfObject.ts';
import { u32Codec } from './codecs.ts';
import {
  ipcacheEntryCodec,
  ipcacheKey4Codec,
  policyEndpointCodec,
  policyKeyCodec,
  policyValueCodec,
  type IpcacheEntry,
  type IpcacheKey4,
  type PolicyEndpointState,
  type PolicyKey,
  type PolicyValue,
} from './policyCodecs.ts';

/** Pinned map names (bpf/lib/policy.h). */
export const POLICY_MAP_NAMES = {
  ipcache: 'tycho_ipcache4',
  policy: 'tycho_policy',
  endpoints: 'tycho_policy_ep',
} as const;

export class PolicyMaps {
  readonly ipcache: BpfMap<IpcacheKey4, IpcacheEntry>;
  readonly policy: BpfMap<PolicyKey, PolicyValue>;
  readonly endpoints: BpfMap<number, PolicyEndpointState>;
  readonly #ownedFds: number[];

  private constructor(
    ipcache: BpfMap<IpcacheKey4, IpcacheEntry>,
    policy: BpfMap<PolicyKey, PolicyValue>,
    endpoints: BpfMap<number, PolicyEndpointState>,
    ownedFds: number[],
  ) {
    this.ipcache = ipcache;
    this.policy = policy;
    this.endpoints = endpoints;
    this.#ownedFds = ownedFds;
  }

  /** Opens the maps pinned in a node's pin dir (after NodeDatapath.open has pinned them). */
  static open(pinDir: string): PolicyMaps {
    const opened: number[] = [];
    const open = (name: string) => {
      try {
        const info = addon.mapOpenPinned(join(pinDir, name));
        opened.push(info.fd);
        return info;
      } catch (err) {
        for (const fd of opened) addon.closeFd(fd);
        throw new Error(`policy maps: cannot open ${join(pinDir, name)} (is the node's datapath loaded?): ${(err as Error).message}`);
      }
    };
    const ipcache = new BpfMap(open(POLICY_MAP_NAMES.ipcache), ipcacheKey4Codec, ipcacheEntryCodec);
    const policy = new BpfMap(open(POLICY_MAP_NAMES.policy), policyKeyCodec, policyValueCodec);
    const endpoints = new BpfMap(open(POLICY_MAP_NAMES.endpoints), u32Codec, policyEndpointCodec);
    return new PolicyMaps(ipcache, policy, endpoints, opened);
  }

  /** The maps of a loaded object; its fds stay the object's. */
  static fromObject(object: BpfObject): PolicyMaps {
    return new PolicyMaps(
      object.map(POLICY_MAP_NAMES.ipcache, ipcacheKey4Codec, ipcacheEntryCodec),
      object.map(POLICY_MAP_NAMES.policy, policyKeyCodec, policyValueCodec),
      object.map(POLICY_MAP_NAMES.endpoints, u32Codec, policyEndpointCodec),
      [],
    );
  }

  /** Closes the fds `open` made; the pinned maps stay. */
  close(): void {
    for (const fd of this.#ownedFds.splice(0)) addon.closeFd(fd);
  }
}
