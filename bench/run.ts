// Runs Tycho's benchmarks: `npm run bench` (all) or `npm run bench -- <name>…`.
// Prints a table and writes the results as JSON (default /tmp/tycho-bench-results.json,
// or `--json <path>`); the numbers worth keeping go to docs/benchmarks.md by hand.
import { writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { parseArgs } from 'node:util';
import { describeGoal, goalMet, type Benchmark, type BenchmarkResult, type Measurement } from './benchmark.ts';
import { apiFlowsLatency } from './apiFlowsLatency.ts';
import { apiFlowsLoad } from './apiFlowsLoad.ts';
import { apiStreamAbuse } from './apiStreamAbuse.ts';
import { apiStreamThroughput } from './apiStreamThroughput.ts';
import { createCleanupStack } from './cleanupStack.ts';
import { filterThroughput } from './filterThroughput.ts';
import { flowProgramCost } from './flowProgramCost.ts';
import { metricsCost } from './metricsCost.ts';
import { policyApplyLatency } from './policyApplyLatency.ts';
import { policyDecideCost } from './policyDecideCost.ts';
import { policyLookupCost } from './policyLookupCost.ts';
import { policyScale } from './policyScale.ts';
import { ringbufDecode } from './ringbufDecode.ts';
import { serviceLb } from './serviceLb.ts';
import { serviceMapRender } from './serviceMapRender.ts';
import { tcpRr } from './tcpRr.ts';

const BENCHMARKS: readonly Benchmark[] = [flowProgramCost, tcpRr, ringbufDecode, serviceMapRender, apiStreamThroughput, apiFlowsLatency, apiFlowsLoad, apiStreamAbuse, filterThroughput, metricsCost, policyLookupCost, policyDecideCost, policyApplyLatency, policyScale, serviceLb];
const DEFAULT_JSON_PATH = '/tmp/tycho-bench-results.json';

const USAGE = `Usage: npm run bench -- [<name>…] [--json <path>]

Benchmarks (all when none is named):
${BENCHMARKS.map((b) => `  ${b.name.padEnd(16)} ${b.summary}`).join('\n')}

Results are printed and written as JSON to --json (default ${DEFAULT_JSON_PATH}).
`;

function selectBenchmarks(names: string[]): Benchmark[] {
  if (names.length === 0) return [...BENCHMARKS];
  const unknown = names.filter((name) => !BENCHMARKS.some((b) => b.name === name));
  if (unknown.length > 0) {
    throw new Error(`unknown benchmark ${unknown.map((n) => `'${n}'`).join(', ')}; expected one of ${BENCHMARKS.map((b) => b.name).join(', ')}`);
  }
  return BENCHMARKS.filter((b) => names.includes(b.name));
}

function formatNumber(value: number): string {
  if (value >= 1000) return Math.round(value).toLocaleString('en-US');
  return value.toFixed(value >= 100 ? 1 : 2);
}

function resultTable(results: readonly BenchmarkResult[]): string {
  const header = ['benchmark', 'measured', 'baseline', 'ratio', 'goal', 'met'];
  const rows = results.flatMap((r) => {
    const met = goalMet(r);
    const baseline = `${r.baseline.label}: ${formatNumber(r.baseline.value)} ${r.baseline.unit}`;
    const figure = (m: Measurement) => `${m.label}: ${formatNumber(m.value)} ${m.unit}`;
    return [
      [r.name, figure(r.measured), baseline, r.ratio.toFixed(3), describeGoal(r.goal), met === undefined ? '—' : met ? 'yes' : 'NO'],
      ...(r.variants ?? []).map((v) => [`  (variant)`, figure(v.measured), v.baseline ? figure(v.baseline) : baseline, v.ratio.toFixed(3), '—', '—']),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    options: { json: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const selected = selectBenchmarks(positionals);
  if (process.getuid?.() !== 0) throw new Error('benchmarks need root (BPF programs, network namespaces)');

  const cleanup = createCleanupStack();
  const onSignal = (signal: NodeJS.Signals) => {
    console.error(`\n${signal}: cleaning up`);
    void cleanup.runAll().finally(() => exitWhenWritten(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const results: BenchmarkResult[] = [];
  const failures: string[] = [];
  for (const benchmark of selected) {
    console.error(`== ${benchmark.name}: ${benchmark.summary}`);
    const log = (message: string) => console.error(`   [${benchmark.name}] ${message}`);
    try {
      const result = await benchmark.run({ log, defer: cleanup.defer });
      for (const line of result.checks) log(`ok: ${line}`);
      results.push(result);
    } catch (error) {
      failures.push(`${benchmark.name}: ${(error as Error).message}`);
      console.error(`   [${benchmark.name}] FAILED: ${(error as Error).stack ?? String(error)}`);
    } finally {
      await cleanup.runAll();
    }
  }

  const machine = { nproc: cpus().length, kernel: release(), cpu: cpus()[0]?.model ?? 'unknown' };
  const command = `npm run bench${positionals.length > 0 ? ` -- ${positionals.join(' ')}` : ''}`;
  const jsonPath = values.json ?? DEFAULT_JSON_PATH;
  const report = { date: new Date().toISOString(), command, machine, results: results.map((r) => ({ ...r, goalMet: goalMet(r) ?? null })), failures };
  writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);

  console.log(`\nmachine: ${machine.nproc} CPUs, ${machine.cpu}, kernel ${machine.kernel}`);
  console.log(resultTable(results));
  for (const failure of failures) console.log(`FAILED ${failure}`);
  console.log(`\nJSON: ${jsonPath}`);
  return failures.length > 0 ? 1 : 0;
}

main().then(
  (code) => exitWhenWritten(code),
  (error: unknown) => {
    console.error(`bench: ${(error as Error).message}`);
    exitWhenWritten(2);
  },
);

/**
 * Exits once stdout and stderr have handed everything written to the kernel:
 * writes to a pipe are asynchronous and `process.exit` would drop the rest
 * (`npm run bench | tee bench.txt` could lose the results table).
 */
function exitWhenWritten(code: number): void {
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}
