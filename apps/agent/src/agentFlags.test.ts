import { describe, expect, it } from 'vitest';
import { parseAgentFlags } from './agentFlags.ts';

const required = ['--node', 'node-1', '--socket', '/run/tycho/node-1/agent.sock', '--pin-dir', '/sys/fs/bpf/tycho/node-1', '--state-dir', '/run/tycho/node-1'];

describe('parseAgentFlags', () => {
  it('reads the required flags and applies the defaults', () => {
    expect(parseAgentFlags(required)).toEqual({
      kind: 'config',
      config: {
        nodeName: 'node-1',
        socketPath: '/run/tycho/node-1/agent.sock',
        pinDir: '/sys/fs/bpf/tycho/node-1',
        stateDir: '/run/tycho/node-1',
        ringCapacity: 4095,
        reportIntervalMs: 5000,
        l7Ports: [53, 80, 8080],
        lbAlgorithm: 'maglev',
        maglevTableSize: 16381,
      },
    });
  });

  it('reads --lb-algorithm and --maglev-table-size, and refuses what Cilium would not take', () => {
    expect(parseAgentFlags([...required, '--lb-algorithm', 'random', '--maglev-table-size', '251'])).toMatchObject({
      kind: 'config',
      config: { lbAlgorithm: 'random', maglevTableSize: 251 },
    });
    expect(parseAgentFlags([...required, '--lb-algorithm', 'roundrobin'])).toEqual({ kind: 'error', message: "--lb-algorithm: expected random or maglev, got 'roundrobin'" });
    expect(parseAgentFlags([...required, '--maglev-table-size', '16383'])).toEqual({
      kind: 'error',
      message: "--maglev-table-size: 16383 is not allowed; use one of Cilium's primes 251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071",
    });
  });

  it('reads the optional flags', () => {
    const parsed = parseAgentFlags([...required, '--ring-capacity', '1023', '--report-interval', '500ms', '--l7-ports', '53, 9090']);
    expect(parsed).toMatchObject({ kind: 'config', config: { ringCapacity: 1023, reportIntervalMs: 500, l7Ports: [53, 9090] } });
  });

  it('reads --lb-device with --cgroup', () => {
    expect(parseAgentFlags([...required, '--cgroup', '/sys/fs/cgroup/unified/tycho/node-1', '--lb-device', 'eth0'])).toMatchObject({
      kind: 'config',
      config: { cgroup: '/sys/fs/cgroup/unified/tycho/node-1', lbDevice: 'eth0' },
    });
  });

  it('reads --metrics and serves it on :9965 by default', () => {
    const options = 'dns:query;ignoreAAAA;destinationContext=pod-short,drop:sourceContext=pod;destinationContext=pod,tcp,flow,port-distribution,icmp,http';
    expect(parseAgentFlags([...required, '--metrics', options])).toMatchObject({
      kind: 'config',
      config: { metrics: { options, listen: { host: undefined, port: 9965 } } },
    });
  });

  it('reads --metrics-listen with a host', () => {
    expect(parseAgentFlags([...required, '--metrics', 'flow', '--metrics-listen', '172.18.0.2:9965'])).toMatchObject({
      kind: 'config',
      config: { metrics: { options: 'flow', listen: { host: '172.18.0.2', port: 9965 } } },
    });
  });

  it('takes --report-interval in whole milliseconds, which the datapath takes as whole nanoseconds', () => {
    expect(parseAgentFlags([...required, '--report-interval', '1.001s'])).toMatchObject({ kind: 'config', config: { reportIntervalMs: 1001 } });
    expect(parseAgentFlags([...required, '--report-interval', '24h'])).toMatchObject({ kind: 'config', config: { reportIntervalMs: 86_400_000 } });
    expect(parseAgentFlags([...required, '--report-interval', '100ms'])).toMatchObject({ kind: 'config', config: { reportIntervalMs: 100 } });
  });

  it('answers --help', () => {
    expect(parseAgentFlags(['--help'])).toEqual({ kind: 'help' });
  });

  it('names every missing required flag', () => {
    const parsed = parseAgentFlags(['--node', 'node-1']);
    expect(parsed.kind).toBe('error');
    const message = parsed.kind === 'error' ? parsed.message : '';
    for (const flag of ['--socket', '--pin-dir', '--state-dir']) expect(message).toContain(`${flag} is required`);
  });

  it('reads --kubeconfig, and no longer takes --kube-dir', () => {
    expect(parseAgentFlags([...required, '--kubeconfig', '/run/tycho/lab/kubeconfig-nodes'])).toMatchObject({ kind: 'config', config: { kubeconfig: '/run/tycho/lab/kubeconfig-nodes' } });
    expect(parseAgentFlags([...required, '--kubeconfig', ''])).toEqual({ kind: 'error', message: '--kubeconfig: expected the path of a kubeconfig file' });
    expect(parseAgentFlags([...required, '--kube-dir', '/run/tycho/lab/kube'])).toMatchObject({ kind: 'error', message: expect.stringContaining("Unknown option '--kube-dir'") });
  });

  it.each([
    [['--ring-capacity', '4096'], /--ring-capacity: 4096 is not allowed; use one less than a power of two/],
    [['--report-interval', 'soon'], /--report-interval: 'soon' is not a duration/],
    [['--report-interval', '1000h'], /^--report-interval: '1000h' is out of range; expected 100ms to 24h$/],
    [['--report-interval', '25h'], /^--report-interval: '25h' is out of range; expected 100ms to 24h$/],
    [['--report-interval', '1ns'], /^--report-interval: '1ns' is out of range; expected 100ms to 24h$/],
    [['--report-interval', `1${'0'.repeat(400)}h`], /^--report-interval: '1000000000000000000000000000000000000000…' is out of range/],
    [['--l7-ports', '80,http'], /--l7-ports: expected up to 8 comma-separated ports/],
    [['--l7-ports', '1,2,3,4,5,6,7,8,9'], /--l7-ports: expected up to 8/],
    [['--colour', 'red'], /Unknown option '--colour'/],
    [['--metrics', 'flow,dnss'], /^--metrics: metric 'dnss' does not exist$/],
    [['--metrics', 'drop:sourceContext=nodes'], /^--metrics: unable to initialize metric 'drop': unknown context 'nodes'$/],
    [['--metrics', 'flow', '--metrics-listen', '9965'], /--metrics-listen: '9965' is not an address/],
    [['--metrics-listen', ':9965'], /--metrics-listen: needs --metrics/],
    [['--cgroup', '/sys/fs/cgroup/unified/tycho/node-1', '--lb-device', 'eth0; rm'], /--lb-device: expected an interface name such as eth0/],
    [['--lb-device', 'eth0'], /--lb-device: needs --cgroup/],
  ])('explains a bad value: %j', (extra, message) => {
    const parsed = parseAgentFlags([...required, ...extra]);
    expect(parsed.kind).toBe('error');
    expect(parsed.kind === 'error' ? parsed.message : '').toMatch(message);
  });
});
