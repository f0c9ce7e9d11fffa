// @tycho/agent/client: what other processes need to talk to agents, without
// loading the agent itself (and its datapath addon).
export { describeAgent, observeUrl, parseAgentAddress, unixAgent, OBSERVE_PATH, STATUS_PATH, type AgentAddress } from './agentAddress.ts';
export { DEFAULT_SOCKET_DIR, findAgentSockets, type AgentSocket } from './agentSockets.ts';
export { AgentRefusal, observeAgent, type ObserveHandlers, type ObserveStream } from './observeClient.ts';
export { followAgent, type FollowHandlers, type FollowOptions } from './followClient.ts';
export { AgentStatusTimeout, fetchAgentStatus } from './statusClient.ts';
export { observeRequestSchema, parseObserveRequest, type GetFlowsRequest } from './observeRequestSchema.ts';
export { securityLabels } from './securityIdentities.ts';
export { createEndpointInterner, INTERNED_ENDPOINTS, MAX_INTERNED_ENDPOINTS, OBSERVE_ENCODING_PARAM, type ObserveEncoding } from './observerEncoding.ts';
