import { describe, expect, it } from 'vitest';
import { formatAge, formatNodes, formatStatus, type ClusterHealth, type NodeHealth } from './clusterHealth.ts';

const node1: NodeHealth = { name: 'node-1', state: 'CONNECTED', num_flows: 4095, max_flows: 4095, seen_flows: 12000, uptime_ns: 200e9 };
const node2: NodeHealth = { name: 'node-2', state: 'CONNECTED', num_flows: 1000, max_flows: 4095, seen_flows: 1000, uptime_ns: 100e9 };
const down: NodeHealth = { name: 'node-3', state: 'UNAVAILABLE', error: 'connect ENOENT /run/tycho/node-3/agent.sock' };

describe('formatStatus', () => {
  it('shows an agent that is there but does not answer its status as Degraded with the reason, never Ok', () => {
    const busy: NodeHealth = { name: 'node-2', state: 'ERROR', error: 'node-2: cannot get status from unix:/run/tycho/node-2/agent.sock: no answer within 2000 ms' };
    const health: ClusterHealth = { api: { url: 'http://localhost:32321', ok: true, uptimeNs: 65e9 }, via: 'api', nodes: [node1, busy] };
    const lines = formatStatus(health).split('\n');
    expect(lines).toContain('Connected Nodes: 1/2');
    expect(lines).toContain('  node-2: Degraded   node-2: cannot get status from unix:/run/tycho/node-2/agent.sock: no answer within 2000 ms');
    expect(lines.some((line) => line.startsWith('  node-2: Ok'))).toBe(false);
    expect(formatNodes([busy])).toMatch(/^node-2 +Degraded +N\/A/m);
  });

  it('prints the API, the Hubble line summed over connected nodes, and each agent', () => {
    const health: ClusterHealth = { api: { url: 'http://localhost:32321', ok: true, uptimeNs: 65e9 }, via: 'api', nodes: [node1, node2, down], flowsPerSecond: 12.5 };
    expect(formatStatus(health)).toBe(
      [
        'API: Ok   http://localhost:32321, uptime 1m5s',
        'Hubble: Ok   Current/Max Flows: 5095/8190 (62.21%), Flows/s: 12.50',
        'Connected Nodes: 2/3',
        'Unavailable Nodes: 1',
        '  - node-3',
        'Agents:',
        '  node-1: Ok   Current/Max Flows: 4095/4095 (100.00%), Flows/s: 60.00, Uptime: 3m20s',
        '  node-2: Ok   Current/Max Flows: 1000/4095 (24.42%), Flows/s: 10.00, Uptime: 1m40s',
        '  node-3: Unavailable   connect ENOENT /run/tycho/node-3/agent.sock',
      ].join('\n'),
    );
  });

  it('uses seen flows over uptime for Flows/s when asking agents directly', () => {
    const health: ClusterHealth = { api: { url: 'http://localhost:32321', ok: false, error: 'ECONNREFUSED' }, via: { socketDir: '/run/tycho' }, nodes: [node1, node2] };
    const lines = formatStatus(health).split('\n');
    expect(lines[0]).toBe('API: Unreachable   http://localhost:32321: ECONNREFUSED; asked the agents in /run/tycho directly');
    expect(lines[1]).toBe('Hubble: Ok   Current/Max Flows: 5095/8190 (62.21%), Flows/s: 70.00');
  });

  it('says Hubble is unavailable when no node is connected', () => {
    const health: ClusterHealth = { api: { url: 'http://localhost:32321', ok: true, uptimeNs: 1e9 }, via: 'api', nodes: [down] };
    expect(formatStatus(health).split('\n')[1]).toBe('Hubble: Unavailable   no node agent answered');
  });
});

describe('formatNodes', () => {
  it('prints hubble list nodes columns, sorted by name', () => {
    expect(formatNodes([down, node2, node1])).toBe(
      [
        'NAME     STATUS        AGE     FLOWS/S   CURRENT/MAX-FLOWS',
        'node-1   Connected     3m20s   60.00     4095/4095 (100.00%)',
        'node-2   Connected     1m40s   10.00     1000/4095 ( 24.42%)',
        'node-3   Unavailable   N/A     N/A       N/A',
      ].join('\n'),
    );
  });
});

describe('formatAge', () => {
  it.each([
    [45e9, '45s'],
    [200e9, '3m20s'],
    [5 * 3600e9 + 120e9, '5h2m'],
    [51 * 3600e9, '2d3h'],
  ])('%d ns is %s', (ns, text) => {
    expect(formatAge(ns)).toBe(text);
  });
});
