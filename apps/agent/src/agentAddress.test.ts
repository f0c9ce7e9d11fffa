import { describe, expect, it } from 'vitest';
import { describeAgent, observeUrl, parseAgentAddress } from './agentAddress.ts';

describe('agent addresses', () => {
  it('reads a unix socket address and gives its WebSocket URL back', () => {
    const agent = parseAgentAddress('node-1=ws+unix:///run/tycho/node-1/agent.sock:/v1/observe');
    expect(agent).toEqual({ node: 'node-1', transport: 'unix', socketPath: '/run/tycho/node-1/agent.sock' });
    expect(observeUrl(agent)).toBe('ws+unix:///run/tycho/node-1/agent.sock:/v1/observe');
  });

  it('reads a TCP address, IPv6 included', () => {
    expect(parseAgentAddress('node-2=ws://10.0.0.5:4244/v1/observe')).toEqual({ node: 'node-2', transport: 'tcp', host: '10.0.0.5', port: 4244 });
    const v6 = parseAgentAddress('node-3=ws://[fd00::5]:4244/v1/observe');
    expect(describeAgent(v6)).toBe('[fd00::5]:4244');
  });

  it.each(['ws://10.0.0.5:4244/v1/observe', 'node-1=', 'node-1=ws://host/v1/observe', 'node-1=ws://host:99999/v1/observe', 'node-1=ws+unix://relative.sock:/v1/observe'])(
    'refuses %j saying what is expected',
    (text) => {
      expect(() => parseAgentAddress(text)).toThrow(/expected name=ws\+unix:\/\/\/run\/tycho\/<node>\/agent\.sock:\/v1\/observe or name=ws:\/\/<host>:4244\/v1\/observe/);
    },
  );
});
