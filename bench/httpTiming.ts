// Timing of HTTP requests for the API benchmarks: when the answer's last
// byte arrived, and percentiles of what was measured.
import { request, type Agent } from 'node:http';
import { performance } from 'node:perf_hooks';

/** The value below which `p` percent of `values` lie (nearest rank). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new Error('percentile of no values');
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/**
 * Sends a GET and resolves with `performance.now()` at the last byte of a
 * 200 answer (the body is read, not parsed); rejects on any other status.
 */
export function getAnsweredAt(url: string, agent: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    request(url, { agent }, (res) => {
      res.on('data', () => {});
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`GET ${url} answered ${res.statusCode}`));
        else resolve(performance.now());
      });
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}
