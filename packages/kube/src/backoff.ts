// How long to wait before retrying after the n-th failure in a row: exponential, capped, with
// jitter so that agents cut off together (an API server restart) do not all come back at once.

export interface BackoffOptions {
  /** The first wait. */
  initialMs: number;
  /** No wait is longer. */
  maxMs: number;
  /** Each failure in a row multiplies the wait by this. */
  factor: number;
  /** Up to this fraction of each wait is taken off at random (0 = none, 1 = anywhere down to 0). */
  jitter: number;
}

export const defaultBackoff: BackoffOptions = { initialMs: 200, maxMs: 30_000, factor: 2, jitter: 0.2 };

/** The wait after `failures` failures in a row (0 = the first). `random` returns a number in [0, 1). */
export function backoffDelay(failures: number, options: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(options.maxMs, options.initialMs * options.factor ** Math.min(failures, 64));
  return Math.round(ceiling * (1 - options.jitter * random()));
}
