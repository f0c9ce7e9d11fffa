import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Server } from 'node:http';
import { parseProbeCommand } from '../probeCommand.ts';
import { startDnsServer, type DnsServer } from './dnsServer.ts';
import { startEchoServer } from './echoServer.ts';
import { resolvePodName, runHttpProbe, runReadinessLoop, type PodResolverConfig } from './prober.ts';

describe('runHttpProbe', () => {
  let dns: DnsServer;
  let echo: Server;
  let echoPort: number;
  let resolver: PodResolverConfig;
  beforeAll(async () => {
    dns = await startDnsServer({
      host: '127.0.0.1',
      port: 0,
      records: () => ({ a: { 'echo-a.default.svc.cluster.local': ['127.0.0.1'], 'www.google.com': ['127.0.0.1'] } }),
    });
    ({ server: echo, port: echoPort } = await startEchoServer({ host: '127.0.0.1', port: 0, name: 'echo-a' }));
    resolver = { nameservers: [`127.0.0.1:${dns.udpPort}`], searchDomains: ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local'] };
  });
  afterAll(async () => {
    echo.close();
    await dns.close();
  });

  const probe = (target: string, negate = false) =>
    parseProbeCommand(negate ? ['ash', '-c', `! curl -s --fail --connect-timeout 2 -o /dev/null ${target}`] : ['curl', '-sS', '--fail', '-o', '/dev/null', target]);

  it('resolves a short service name through the search domains', async () => {
    expect(await resolvePodName('echo-a', resolver, 2000)).toBe('127.0.0.1');
  });

  it('resolves an external name after the search domains fail', async () => {
    expect(await resolvePodName('www.google.com', resolver, 2000)).toBe('127.0.0.1');
  });

  it('succeeds on a 200 from the echo server', async () => {
    expect(await runHttpProbe(probe(`echo-a:${echoPort}/public`), resolver, 3000)).toMatchObject({ ok: true });
  });

  it('fails on a 404 with --fail', async () => {
    const outcome = await runHttpProbe(probe(`echo-a:${echoPort}/nothing`), resolver, 3000);
    expect(outcome).toEqual({ ok: false, detail: expect.stringContaining('→ 404') });
  });

  it('fails for a name the cluster DNS does not know', async () => {
    expect(await runHttpProbe(probe(`echo-z:${echoPort}/public`), resolver, 3000)).toEqual({ ok: false, detail: 'could not resolve host: echo-z' });
  });

  it('inverts the outcome for a negated probe', async () => {
    expect(await runHttpProbe(probe(`echo-a:${echoPort}/private`, true), resolver, 3000)).toMatchObject({ ok: false });
    expect(await runHttpProbe(probe('echo-z:1/private', true), resolver, 3000)).toMatchObject({ ok: true });
  });
});

describe('runReadinessLoop', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('waits out a periodSeconds of 30 days between probes (beyond the 24.8 days a Node timer holds), not 1 ms', async () => {
    vi.useFakeTimers();
    let checks = 0;
    const loop = runReadinessLoop(
      async () => {
        checks++;
        return { ok: true, detail: 'ok' };
      },
      { periodMs: 30 * 86_400_000, initialDelayMs: 0, failureThreshold: 3 },
      () => {},
      () => {},
    );
    await vi.advanceTimersByTimeAsync(1000);
    expect(checks).toBe(1);
    await vi.advanceTimersByTimeAsync(86_400_000);
    expect(checks).toBe(1);
    loop.stop();
  });
});
