// @tycho/datapath: the eBPF datapath (bpf/) driven from TypeScript.
export { NodeDatapath, DEFAULT_CONFIG, DEFAULT_OBJECT_PATH } from './nodeDatapath.ts';
export type { DatapathCounters, NodeDatapathOptions } from './nodeDatapath.ts';
export { BpfObject } from './bpfObject.ts';
export type { BpfObjectOptions } from './bpfObject.ts';
export { BpfMap, PerCpuBpfMap, MapUpdate } from './bpfMap.ts';
export type { MapUpdateFlag } from './bpfMap.ts';
export { RingBufferReader, forEachRecord, RECORD_HEADER_BYTES } from './ringBufferReader.ts';
export { attachEndpointPrograms, detachEndpointPrograms, endpointLinkDir, hookPrograms } from './endpointHooks.ts';
export type { EndpointPrograms, EndpointHookOptions, HookKind, HookProgram } from './endpointHooks.ts';
export { attachTcxProgram, detachTcxProgram, tcxProgramIds } from './tcx.ts';
export { attachTcProgram, detachTcProgram, tcProgramId, TC_HANDLE, TC_PRIORITY } from './tc.ts';
export type { TcDirection } from './tc.ts';
export { testRun, encodeSkBuffContext } from './testRun.ts';
export { buildPacket } from './packetBuilder.ts';
export type { PacketSpec, BuiltPacket } from './packetBuilder.ts';
export type { TestRunOptions, TestRunResult, SkBuffContext } from './testRun.ts';
export { btfStructLayout } from './btfLayout.ts';
export type { BtfStructLayout } from './btfLayout.ts';
export { boottimeNs, bootToWallOffsetMs } from './bootClock.ts';
export { ipv4ToString, ipv6ToString, writeIpAddress } from './ipAddress.ts';
export {
  layouts,
  tupleCodec,
  ctKey4Codec,
  ctKey6Codec,
  ctEntryCodec,
  endpointInfoCodec,
  configCodec,
  u32Codec,
  u64Codec,
  decodeFlowEvent,
  decodeFlowEventBatch,
  encodeFlowEvent,
  encodeToBuffer,
  decodeFromBuffer,
  readU64,
  writeU64,
  viewOf,
} from './codecs.ts';
export type {
  Codec,
  StructLayout,
  FieldLayout,
  Tuple,
  CtKey,
  CtEntry,
  EndpointInfo,
  DatapathConfig,
  FlowEvent,
} from './codecs.ts';
export { EventType, TraceReason, VerdictDirection, PolicyMatchType, ObsPoint, Verdict, TcpFlag, Counter, DropReason, IpProto, PAYLOAD_MAX, L7_PORTS_MAX } from './constants.ts';
export * from './serviceLb.ts';
export * from './nodePortDatapath.ts';
export * from './networkPolicy.ts';
