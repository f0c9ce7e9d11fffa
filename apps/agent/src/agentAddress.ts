/**
 * Where an agent's observer API is: its unix socket on this machine
 * (`ws+unix:///run/tycho/node-1/agent.sock:/v1/observe`) or TCP in a
 * cluster (`ws://10.0.0.5:4244/v1/observe`).
 */
export type AgentAddress =
  | { node: string; transport: 'unix'; socketPath: string }
  | { node: string; transport: 'tcp'; host: string; port: number };

export const OBSERVE_PATH = '/v1/observe';
export const STATUS_PATH = '/v1/status';

export function unixAgent(node: string, socketPath: string): AgentAddress {
  return { node, transport: 'unix', socketPath };
}

/** The WebSocket URL of the agent's `/v1/observe`. */
export function observeUrl(agent: AgentAddress): string {
  return agent.transport === 'unix' ? `ws+unix://${agent.socketPath}:${OBSERVE_PATH}` : `ws://${agent.host}:${agent.port}${OBSERVE_PATH}`;
}

/** The agent as a person would name it in an error: the socket path or host:port. */
export function describeAgent(agent: AgentAddress): string {
  return agent.transport === 'unix' ? agent.socketPath : `${agent.host}:${agent.port}`;
}

/**
 * `name=ws+unix:///path/agent.sock:/v1/observe` or `name=ws://host:4244/v1/observe`
 * (the `--agent` flag) → an address; throws saying what is expected.
 */
export function parseAgentAddress(text: string): AgentAddress {
  const expected = 'expected name=ws+unix:///run/tycho/<node>/agent.sock:/v1/observe or name=ws://<host>:4244/v1/observe';
  const equals = text.indexOf('=');
  const node = text.slice(0, equals);
  const url = text.slice(equals + 1);
  if (equals < 1 || !/^[A-Za-z0-9][-A-Za-z0-9_.]*$/.test(node)) throw new Error(`agent '${text}': missing or invalid node name; ${expected}`);
  const unix = /^ws\+unix:\/\/(\/[^:]+):\/v1\/observe$/.exec(url);
  if (unix?.[1]) return unixAgent(node, unix[1]);
  const tcp = /^ws:\/\/([^/:]+|\[[0-9a-fA-F:.]+\]):(\d{1,5})\/v1\/observe$/.exec(url);
  if (tcp?.[1] && tcp[2] && Number(tcp[2]) <= 65_535) return { node, transport: 'tcp', host: tcp[1], port: Number(tcp[2]) };
  throw new Error(`agent '${text}': '${url}' is not an agent observe URL; ${expected}`);
}
