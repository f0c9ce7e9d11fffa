// @tycho/cni: what other packages use to configure and invoke the tycho-cni plugin.
export { cniConfigFor, type CniNode, type TychoCniConfig } from './cniConfig.ts';
export { CniErrorCode, type CniErrorResult } from './cniError.ts';
export { cniResultSchema, type CniResult } from './cniResult.ts';
export { currentCniVersion, supportedCniVersions } from './cniVersion.ts';
export {
  cniAdd,
  cniDel,
  cniEnvFor,
  CniInvocationError,
  runCni,
  tychoCniBin,
  type CniCommand,
  type CniOutcome,
  type PodAttachment,
  type RunCniOptions,
} from './runCni.ts';
export { hostIfnameFor } from './veth.ts';
export type { EndpointRegistration } from './agentClient.ts';
