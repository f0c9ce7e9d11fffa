export { createProgram, type CliIo } from './program.ts';
export { runObserve, type ObserveIo } from './observeCommand.ts';
export { planObserve, parseTimeFlag, type ObserveFlags, type ObservePlan } from './observeOptions.ts';
export { selectAgentSockets } from './agentSockets.ts';
export type { LabApi } from './labCommands.ts';
