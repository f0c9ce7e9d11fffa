import type fc from 'fast-check';

/**
 * How long a fuzz target runs. `npm test` runs each target's default number
 * of inputs (bounded, seconds); `npm run fuzz` multiplies them by
 * TYCHO_FUZZ_FACTOR. fast-check draws a fresh seed per run and prints it
 * with the shrunk counterexample on failure; TYCHO_FUZZ_SEED (and
 * TYCHO_FUZZ_PATH, both from that report) replay a failure exactly.
 */
export interface FuzzSettings {
  factor: number;
  seed: number | undefined;
  path: string | undefined;
}

export function fuzzSettings(env: NodeJS.ProcessEnv = process.env): FuzzSettings {
  const factorText = env['TYCHO_FUZZ_FACTOR'] ?? '1';
  const factor = Number(factorText);
  if (!/^\d+(\.\d+)?$/.test(factorText) || factor <= 0) throw new Error(`TYCHO_FUZZ_FACTOR: '${factorText}' is not a positive number`);
  const seedText = env['TYCHO_FUZZ_SEED'];
  if (seedText !== undefined && !/^-?\d+$/.test(seedText)) throw new Error(`TYCHO_FUZZ_SEED: '${seedText}' is not an integer (take it from a fast-check failure report)`);
  return { factor, seed: seedText === undefined ? undefined : Number(seedText), path: env['TYCHO_FUZZ_PATH'] };
}

/** fast-check parameters for a target whose `npm test` run tries `defaultRuns` inputs. */
export function fuzzParameters<T>(defaultRuns: number, settings: FuzzSettings = fuzzSettings()): fc.Parameters<T> {
  return {
    numRuns: Math.max(1, Math.round(defaultRuns * settings.factor)),
    ...(settings.seed !== undefined ? { seed: settings.seed } : {}),
    ...(settings.path !== undefined ? { path: settings.path } : {}),
  };
}

/** A vitest timeout for a target that needs `defaultMs` at its default number of runs. */
export function fuzzTimeoutMs(defaultMs: number, settings: FuzzSettings = fuzzSettings()): number {
  return Math.round(defaultMs * Math.max(1, settings.factor));
}
