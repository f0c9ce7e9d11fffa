export { createProgram, type CliIo } from './program.ts';
export { runObserve, type ObserveIo } from './observeCommand.ts';
export { planObserve, parseTimeFlag, type ObserveFlags, type ObservePlan } from './observeOptions.ts';
export { findAgentSockets, selectAgentSockets, type AgentSocket } from './agentSockets.ts';
export { mergeByTime, limitFlows, createTimeOrderedBuffer } from './flowMerge.ts';
export { observeAgent, type ObserveStream } from './observeClient.ts';
export type { LabApi } from './labCommands.ts';
