export { AgentRelay, type AgentRelayOptions, type HeldFlowsQuery, type NodeState, type NodeView, type RelayStatus } from './agentRelay.ts';
export { API_USAGE, DEFAULT_PORT, DEFAULT_WEB_DIR, parseApiFlags, type ApiConfig } from './apiFlags.ts';
export { startTychoApi, type TychoApi, type TychoApiOptions } from './apiServer.ts';
export { createApp, type AppOptions } from './app.ts';
export { parseFlowsQuery, parseServiceMapQuery, type FlowsQuery, type ServiceMapQuery } from './flowQuery.ts';
export { NamespaceCatalog } from './namespaceCatalog.ts';
export { ServiceMapService, type ServiceMapLease } from './serviceMapService.ts';
export { createStreamHub, STREAM_PATH, type StreamHub, type StreamMessage } from './streamHub.ts';
