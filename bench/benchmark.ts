// What a benchmark is and what it reports: every result is a measurement set
// against a baseline measured in the same run, as a ratio (docs/benchmarks.md).

/** A figure measured in one benchmark run: the median over its rounds. */
export interface Measurement {
  /** What was measured, e.g. 'from_container, established TCP ACK'. */
  label: string;
  value: number;
  unit: string;
  /** One value per round, in the order they were measured. */
  rounds: number[];
}

export interface Variant {
  measured: Measurement;
  /** Median over rounds of measured / baseline of the same round (see pairedRatio). */
  ratio: number;
  /** A baseline of its own, when the variant's ratio is not to the benchmark's baseline. */
  baseline?: Measurement;
}

/** What a benchmark must reach to meet its goal. */
export type Goal =
  | { kind: 'ratioAtLeast'; min: number }
  | { kind: 'valueAtLeast'; min: number };

export interface BenchmarkResult {
  name: string;
  measured: Measurement;
  baseline: Measurement;
  /** Median over rounds of measured / baseline of the same round pair (see pairedRatio). */
  ratio: number;
  goal?: Goal;
  /** Further variants measured in the same interleaved rounds, each with its paired ratio to the baseline; informative, no goal. */
  variants?: Variant[];
  /** Checks that the run measured what it claims (counts, counters); failures abort the benchmark. */
  checks: string[];
}

export interface Benchmark {
  name: string;
  /** One line: what is measured against what. */
  summary: string;
  run(context: BenchmarkContext): Promise<BenchmarkResult>;
}

export interface BenchmarkContext {
  log(message: string): void;
  /** Registers an undo step; they run newest first when the benchmark ends, fails or is interrupted. */
  defer(undo: () => void | Promise<void>): void;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function measurement(label: string, unit: string, rounds: number[]): Measurement {
  return { label, unit, rounds, value: median(rounds) };
}

/**
 * The median of the per-pair ratios measured[i] / baseline[i]. Each pair ran
 * back to back, so a slow spell on a shared machine moves both sides of a
 * pair and cancels out, where a ratio of the two medians would not.
 */
export function pairedRatio(measured: readonly number[], baseline: readonly number[]): number {
  if (measured.length !== baseline.length) throw new Error(`paired ratio of ${measured.length} and ${baseline.length} rounds`);
  return median(measured.map((value, i) => value / baseline[i]!));
}

/** Whether the result meets its goal; undefined when it has none. */
export function goalMet(result: BenchmarkResult): boolean | undefined {
  const goal = result.goal;
  if (!goal) return undefined;
  return goal.kind === 'ratioAtLeast' ? result.ratio >= goal.min : result.measured.value >= goal.min;
}

export function describeGoal(goal: Goal | undefined): string {
  if (!goal) return '—';
  return goal.kind === 'ratioAtLeast' ? `ratio ≥ ${goal.min}` : `≥ ${goal.min.toLocaleString('en-US')}`;
}

/** Fails with what was expected when a sanity check does not hold; returns the check's description. */
export function check(condition: boolean, description: string, actual: string): string {
  if (!condition) throw new Error(`check failed: ${description} (got ${actual})`);
  return `${description} (${actual})`;
}
