// Client for the node agent's endpoint API (docs/contracts.md), HTTP over the agent's unix socket.
import { request } from 'node:http';
import { z } from 'zod';
import { describeIssues } from './schemaIssues.ts';

export interface EndpointRegistration {
  containerId: string;
  podName: string;
  namespace: string;
  netns: string;
  ifname: string;
  hostIfname: string;
  hostIfindex: number;
  ipv4: string;
}

const registeredEndpointSchema = z.object({
  id: z.union([z.number().int(), z.string().min(1)]),
  identity: z.number().int(),
});

export type RegisteredEndpoint = z.infer<typeof registeredEndpointSchema>;

/** The agent could not be reached at all (no socket, nobody listening, no answer in time). */
export class AgentUnreachableError extends Error {
  constructor(socketPath: string, cause: string) {
    super(`node agent at ${socketPath} is unreachable: ${cause}`);
    this.name = 'AgentUnreachableError';
  }
}

/** The agent answered, but not with what the contract promises. */
export class AgentResponseError extends Error {
  readonly status: number;

  constructor(what: string, status: number, detail: string) {
    super(`node agent answered ${what} with HTTP ${status}: ${detail}`);
    this.name = 'AgentResponseError';
    this.status = status;
  }
}

interface HttpReply {
  status: number;
  body: string;
}

export function createAgentClient(socketPath: string, options: { timeoutMs?: number } = {}) {
  const timeoutMs = options.timeoutMs ?? 5_000;

  function send(method: string, path: string, body?: unknown): Promise<HttpReply> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          socketPath,
          method,
          path,
          headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
          timeout: timeoutMs,
          // One connection per call: a pooled keep-alive socket would hold the short-lived plugin process open.
          agent: false,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', (error) => reject(new AgentUnreachableError(socketPath, error.message)));
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', (error) => reject(new AgentUnreachableError(socketPath, error.message)));
      req.end(payload);
    });
  }

  return {
    /** `POST /v1/endpoints` → 201 `{id, identity}`. */
    async registerEndpoint(registration: EndpointRegistration): Promise<RegisteredEndpoint> {
      const reply = await send('POST', '/v1/endpoints', registration);
      if (reply.status !== 201 && reply.status !== 200) {
        throw new AgentResponseError('POST /v1/endpoints', reply.status, reply.body.trim() || 'empty body');
      }
      let json: unknown;
      try {
        json = JSON.parse(reply.body);
      } catch {
        throw new AgentResponseError('POST /v1/endpoints', reply.status, `body is not JSON: ${reply.body.slice(0, 200)}`);
      }
      const parsed = registeredEndpointSchema.safeParse(json);
      if (!parsed.success) {
        throw new AgentResponseError('POST /v1/endpoints', reply.status, `expected {id, identity}: ${describeIssues(parsed.error, 'body')}`);
      }
      return parsed.data;
    },

    /** `DELETE /v1/endpoints/:containerId` → 204; an endpoint the agent does not know is already gone. */
    async deregisterEndpoint(containerId: string): Promise<void> {
      const reply = await send('DELETE', `/v1/endpoints/${encodeURIComponent(containerId)}`);
      if (reply.status >= 300 && reply.status !== 404) {
        throw new AgentResponseError(`DELETE /v1/endpoints/${containerId}`, reply.status, reply.body.trim() || 'empty body');
      }
    },
  } as const;
}

export type AgentClient = ReturnType<typeof createAgentClient>;
