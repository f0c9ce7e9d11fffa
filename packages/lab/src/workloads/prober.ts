import { request } from 'node:http';
import { isIP } from 'node:net';
import { Resolver } from 'node:dns/promises';
import type { HttpProbe } from '../probeCommand.ts';

/** A dot count below which names try the search domains first (kubelet's `options ndots:5`). */
const NDOTS = 5;
/**
 * The longest delay a Node timer takes (2^31−1 ms, 24.8 days); beyond it a
 * timer fires after 1 ms. Manifests may ask for longer periods and timeouts
 * (Kubernetes does not bound them): they wait this long instead.
 */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface ProbeOutcome {
  readonly ok: boolean;
  readonly detail: string;
}

/** The pod's resolver: cluster DNS servers plus kubelet's search path. */
export interface PodResolverConfig {
  readonly nameservers: readonly string[];
  readonly searchDomains: readonly string[];
}

/** Resolves a name as the pod's libc would: IP literals as is, search domains per ndots, then the name itself. */
export async function resolvePodName(host: string, config: PodResolverConfig, timeoutMs: number): Promise<string> {
  if (isIP(host)) return host;
  if (host === 'localhost') return '127.0.0.1';
  const resolver = new Resolver({ timeout: Math.max(200, Math.floor(timeoutMs / 2)), tries: 2 });
  resolver.setServers([...config.nameservers]);
  const absolute = host.endsWith('.');
  const name = host.replace(/\.$/, '');
  const searched = config.searchDomains.map((domain) => `${name}.${domain}`);
  const candidates = absolute ? [name] : name.split('.').length - 1 < NDOTS ? [...searched, name] : [name, ...searched];
  for (const candidate of candidates) {
    try {
      const ips = await resolver.resolve4(candidate);
      const ip = ips[0];
      if (ip) return ip;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTFOUND' || code === 'ENODATA') continue;
      throw new Error(`could not resolve ${host}: ${code ?? (err as Error).message}`);
    }
  }
  throw new Error(`could not resolve host: ${host}`);
}

/** One HTTP GET as curl would do it, with curl's connect timeout and --fail. */
function httpGet(probe: HttpProbe, ip: string, timeoutMs: number): Promise<ProbeOutcome> {
  const target = `${probe.scheme}://${probe.host}:${probe.port}${probe.path}`;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (outcome: ProbeOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(overall);
      req.destroy();
      resolve(outcome);
    };
    const req = request({
      host: ip,
      port: probe.port,
      path: probe.path,
      method: 'GET',
      agent: false,
      headers: { host: `${probe.host}:${probe.port}`, 'user-agent': 'curl/8.5.0 (tycho-lab prober)', accept: '*/*' },
    });
    const overall = setTimeout(() => finish({ ok: false, detail: `GET ${target} (${ip}): timed out after ${timeoutMs} ms` }), Math.min(timeoutMs, MAX_TIMER_MS));
    req.on('socket', (socket) => {
      if (probe.connectTimeoutMs === undefined) return;
      const connectTimer = setTimeout(
        () => finish({ ok: false, detail: `GET ${target} (${ip}): connection timed out after ${probe.connectTimeoutMs} ms` }),
        Math.min(probe.connectTimeoutMs, MAX_TIMER_MS),
      );
      socket.once('connect', () => clearTimeout(connectTimer));
      socket.once('close', () => clearTimeout(connectTimer));
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        const failed = probe.failOnHttpError && status >= 400;
        finish({ ok: !failed, detail: `GET ${target} (${ip}) → ${status}` });
      });
      res.on('error', (err) => finish({ ok: false, detail: `GET ${target} (${ip}): ${err.message}` }));
    });
    req.on('error', (err) => finish({ ok: false, detail: `GET ${target} (${ip}): ${(err as NodeJS.ErrnoException).code ?? err.message}` }));
    req.end();
  });
}

/** Runs a parsed curl probe once: resolve, GET, then apply `!` negation. */
export async function runHttpProbe(probe: HttpProbe, resolver: PodResolverConfig, timeoutMs: number): Promise<ProbeOutcome> {
  const started = Date.now();
  const budget = probe.maxTimeMs !== undefined ? Math.min(probe.maxTimeMs, timeoutMs) : timeoutMs;
  let outcome: ProbeOutcome;
  try {
    const ip = await resolvePodName(probe.host, resolver, budget);
    outcome = await httpGet(probe, ip, Math.max(1, budget - (Date.now() - started)));
  } catch (err) {
    outcome = { ok: false, detail: (err as Error).message };
  }
  return probe.negate ? { ok: !outcome.ok, detail: `! (${outcome.detail})` } : outcome;
}

export interface ProbeSchedule {
  readonly periodMs: number;
  readonly initialDelayMs: number;
  readonly failureThreshold: number;
}

/**
 * Kubelet's readiness logic: not ready until the first success; ready until
 * `failureThreshold` failures in a row. Calls `onReady` on every change and
 * `onOutcome` when a probe's result differs from the previous one.
 */
export function runReadinessLoop(
  check: () => Promise<ProbeOutcome>,
  schedule: ProbeSchedule,
  onReady: (ready: boolean, detail: string) => void,
  onOutcome: (outcome: ProbeOutcome) => void,
): { stop: () => void } {
  let ready = false;
  let failures = 0;
  let lastDetail: string | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async () => {
    const outcome = await check();
    if (stopped) return;
    if (outcome.detail !== lastDetail) onOutcome(outcome);
    lastDetail = outcome.detail;
    if (outcome.ok) {
      failures = 0;
      if (!ready) onReady((ready = true), outcome.detail);
    } else if (++failures >= schedule.failureThreshold && ready) {
      onReady((ready = false), outcome.detail);
    }
    timer = setTimeout(tick, Math.min(schedule.periodMs, MAX_TIMER_MS));
  };
  timer = setTimeout(tick, Math.min(schedule.initialDelayMs, MAX_TIMER_MS));
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
