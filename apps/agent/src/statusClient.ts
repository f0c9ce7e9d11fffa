import { request } from 'node:http';
import type { ObserverStatus } from '@tycho/flow';
import { describeAgent, STATUS_PATH, type AgentAddress } from './agentAddress.ts';

/**
 * The agent accepted the request but did not answer in time: it is up but
 * cannot serve (a busy event loop), which callers report as NODE_ERROR
 * (Degraded), not as unreachable.
 */
export class AgentStatusTimeout extends Error {}

/** `GET /v1/status` of an agent; rejects when it cannot be reached, does not answer in time (AgentStatusTimeout), or answers anything but 200 JSON. */
export function fetchAgentStatus(agent: AgentAddress, timeoutMs = 2000): Promise<ObserverStatus> {
  const target = agent.transport === 'unix' ? { socketPath: agent.socketPath } : { host: agent.host.replace(/^\[|\]$/g, ''), port: agent.port };
  return new Promise((resolve, reject) => {
    const req = request({ ...target, path: STATUS_PATH, method: 'GET', timeout: timeoutMs, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`${agent.node}: status answered ${res.statusCode}: ${body.slice(0, 200)}`));
        try {
          resolve(JSON.parse(body) as ObserverStatus);
        } catch {
          reject(new Error(`${agent.node}: status is not JSON: ${body.slice(0, 200)}`));
        }
      });
    });
    let timedOut = false;
    req.on('timeout', () => {
      timedOut = true;
      req.destroy(new Error(`no answer within ${timeoutMs} ms`));
    });
    req.on('error', (err) => {
      const message = `${agent.node}: cannot get status from ${describeAgent(agent)}: ${err.message}`;
      reject(timedOut ? new AgentStatusTimeout(message) : new Error(message));
    });
    req.end();
  });
}
