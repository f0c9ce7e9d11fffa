export * from './flow.ts';
export * from './reservedIdentity.ts';
export * from './timestamp.ts';
export * from './duration.ts';
export * from './observerApi.ts';
export { FlowRing, DEFAULT_RING_CAPACITY, isValidRingCapacity, type RingRead } from './flowRing.ts';
export { formatCompact, flowTypeLabel, type CompactPrintOptions } from './compactPrinter.ts';
export { formatJson } from './jsonPrinter.ts';
export { mergeByTime, limitFlows, createTimeOrderedBuffer } from './flowMerge.ts';
