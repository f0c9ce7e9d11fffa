import { describe, expect, it } from 'vitest';
import { DEFAULT_WEB_DIR, parseApiFlags } from './apiFlags.ts';

describe('API flags', () => {
  it('defaults to :32321 on every address, agents under /run/tycho and apps/web/dist', () => {
    expect(parseApiFlags([])).toEqual({
      kind: 'config',
      config: { port: 32321, host: '0.0.0.0', socketDir: '/run/tycho', agents: [], webDir: DEFAULT_WEB_DIR, kubeconfig: undefined },
    });
    expect(DEFAULT_WEB_DIR).toMatch(/apps\/web\/dist$/);
  });

  it('takes a fixed list of agents instead of the socket directory', () => {
    const parsed = parseApiFlags(['--agent', 'node-1=ws+unix:///run/tycho/node-1/agent.sock:/v1/observe', '--agent', 'node-2=ws://10.0.0.5:4244/v1/observe']);
    expect(parsed.kind === 'config' && parsed.config).toMatchObject({
      socketDir: undefined,
      agents: [
        { node: 'node-1', transport: 'unix', socketPath: '/run/tycho/node-1/agent.sock' },
        { node: 'node-2', transport: 'tcp', host: '10.0.0.5', port: 4244 },
      ],
    });
  });

  it('takes --kubeconfig, and no longer --kube-dir', () => {
    expect(parseApiFlags(['--kubeconfig', '/run/tycho/lab/kubeconfig'])).toMatchObject({ kind: 'config', config: { kubeconfig: '/run/tycho/lab/kubeconfig' } });
    expect(parseApiFlags(['--kubeconfig', ''])).toEqual({ kind: 'error', message: '--kubeconfig: expected the path of a kubeconfig file' });
    expect(parseApiFlags(['--kube-dir', '/run/tycho/lab/kube'])).toMatchObject({ kind: 'error', message: expect.stringContaining("Unknown option '--kube-dir'") });
  });

  it('names the flag that is wrong', () => {
    expect(parseApiFlags(['--port', 'http'])).toEqual({ kind: 'error', message: "--port: 'http' is not a port (0-65535)" });
    expect(parseApiFlags(['--agent', 'node-1=http://x/'])).toMatchObject({ kind: 'error', message: expect.stringMatching(/^--agent: agent 'node-1=http:\/\/x\/': 'http:\/\/x\/' is not an agent observe URL/) });
    expect(parseApiFlags(['--agent', 'a=ws://h:1/v1/observe', '--agent', 'a=ws://h:2/v1/observe'])).toEqual({ kind: 'error', message: "--agent: node 'a' is given twice" });
    expect(parseApiFlags(['--colour'])).toMatchObject({ kind: 'error', message: expect.stringMatching(/--colour/) });
  });

  it('asks for help', () => {
    expect(parseApiFlags(['-h'])).toEqual({ kind: 'help' });
  });
});
