export * from './briefDisplay.ts';
export * from './cleanError.ts';
export * from './flowFilterInput.ts';
export * from './fuzzRuns.ts';
export * from './hostileValues.ts';
