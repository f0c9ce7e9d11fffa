// The public surface of the network policy part of @tycho/datapath (the
// ipcache, policy and per-endpoint policy maps of bpf_lxc.o), re-exported by index.ts.
export { PolicyMaps, POLICY_MAP_NAMES } from './policyMaps.ts';
export {
  policyLayouts,
  ipcacheKey4Codec,
  ipcacheEntryCodec,
  policyKeyCodec,
  policyValueCodec,
  policyEndpointCodec,
  IpcacheFlag,
  PolicyFlag,
  PolicyEndpointFlag,
  POLICY_KEY_EXACT_BITS,
  type IpcacheKey4,
  type IpcacheEntry,
  type PolicyKey,
  type PolicyValue,
  type PolicyEndpointState,
  type PolicyDirection,
} from './policyCodecs.ts';
