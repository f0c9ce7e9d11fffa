import { z } from 'zod';
import { VERDICTS, type Flow } from '@tycho/flow';
import type { Card, Link } from '@tycho/servicemap';

/**
 * Schemas for everything the API sends (docs/contracts.md, "HTTP API"),
 * checked where it enters the app; the types come out of them.
 */

export const statusSchema = z.object({
  num_flows: z.number(),
  max_flows: z.number(),
  seen_flows: z.number(),
  flows_per_second: z.number(),
  uptime_ns: z.number(),
  num_connected_nodes: z.number(),
  num_unavailable_nodes: z.number(),
  unavailable_nodes: z.array(z.string()),
});
export type ApiStatus = z.infer<typeof statusSchema>;

export const namespacesSchema = z.object({ namespaces: z.array(z.string()) });

export const nodeSchema = z.object({
  name: z.string(),
  state: z.enum(['CONNECTED', 'UNAVAILABLE', 'ERROR']),
  num_flows: z.number().optional(),
  max_flows: z.number().optional(),
  seen_flows: z.number().optional(),
  uptime_ns: z.number().optional(),
  error: z.string().optional(),
});
export const nodesSchema = z.object({ nodes: z.array(nodeSchema) });
export type ApiNode = z.infer<typeof nodeSchema>;

/** The fields every flow has; the rest is optional in Hubble's JSON and read defensively. */
const flowShape = z.looseObject({
  time: z.string(),
  uuid: z.string(),
  verdict: z.enum(VERDICTS),
  Type: z.string(),
  node_name: z.string(),
  event_type: z.looseObject({ type: z.number() }),
});
export const flowSchema = z.custom<Flow>((value) => flowShape.safeParse(value).success, { message: 'not a Hubble flow (time, uuid, verdict, Type, node_name, event_type)' });

const cardSchema = z.object({
  id: z.string(),
  kind: z.enum(['workload', 'world', 'host', 'remote-node', 'kube-dns', 'unknown']),
  namespace: z.string().optional(),
  title: z.string(),
  subtitle: z.string().optional(),
  workload: z.object({ name: z.string(), kind: z.string() }).optional(),
  app: z.string().optional(),
  identities: z.array(z.number()),
  labels: z.array(z.string()),
  pods: z.array(z.string()),
  ports: z.array(z.object({ port: z.number(), protocol: z.enum(['TCP', 'UDP']), l7: z.enum(['http', 'dns']).optional() })),
  dnsNames: z.array(z.string()).optional(),
  httpEndpoints: z.array(z.object({
    method: z.string(),
    path: z.string(),
    requests: z.number(),
    statuses: z.partialRecord(z.enum(['1xx', '2xx', '3xx', '4xx', '5xx', 'other']), z.number()),
  })).optional(),
  services: z.array(z.string()).optional(),
}) satisfies z.ZodType<Card>;

const linkSchema = z.object({
  id: z.string(),
  source: z.string(),
  destination: z.string(),
  port: z.number(),
  protocol: z.enum(['TCP', 'UDP', 'ICMPv4', 'ICMPv6']),
  flows: z.number(),
  bytesFwd: z.number(),
  bytesRev: z.number(),
  verdicts: z.record(z.string(), z.number()),
  dropReasons: z.record(z.string(), z.number()),
  policies: z.array(z.object({
    name: z.string(),
    namespace: z.string().optional(),
    kind: z.string().optional(),
    effect: z.enum(['allowed', 'denied']),
    direction: z.enum(['ingress', 'egress']),
    flows: z.number(),
  })).optional(),
  firstSeen: z.string(),
  lastSeen: z.string(),
  flowsPerSecond: z.number(),
}) satisfies z.ZodType<Link>;

export const serviceMapSchema = z.object({ cards: z.array(cardSchema), links: z.array(linkSchema) });

export const flowsResponseSchema = z.object({
  flows: z.array(z.looseObject({ flow: flowSchema.optional(), node_name: z.string().optional() })),
});

export const streamMessageSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('batch'),
    flows: z.array(flowSchema),
    map: z.object({
      cards: z.array(cardSchema),
      links: z.array(linkSchema),
      removedCards: z.array(z.string()),
      removedLinks: z.array(z.string()),
    }),
    status: statusSchema.optional(),
  }),
  z.object({ type: z.literal('error'), error: z.string() }),
]);
export type StreamMessage = z.infer<typeof streamMessageSchema>;

/** `GET /api/v1/metrics`: the relayed flows of one time window, counted by the API. */
export const metricsSchema = z.object({
  window: z.enum(['1m', '5m', '15m', '1h']),
  namespace: z.string(),
  start: z.string(),
  end: z.string(),
  step_seconds: z.number(),
  flows: z.object({
    total: z.number(),
    by_verdict: z.record(z.string(), z.number()),
    per_second: z.array(z.object({ time: z.string(), verdicts: z.record(z.string(), z.number()) })),
  }),
  drops: z.object({ total: z.number(), by_reason: z.array(z.object({ reason: z.string(), flows: z.number() })) }),
  top_ports: z.array(z.object({ port: z.number(), protocol: z.string(), flows: z.number() })),
  dns: z.object({ queries: z.number(), responses: z.number(), by_rcode: z.array(z.object({ rcode: z.string(), responses: z.number() })) }),
  http: z.object({
    responses: z.number(),
    by_status: z.array(z.object({ status: z.number(), responses: z.number() })),
    latency_ms: z.object({ p50: z.number(), p90: z.number(), p99: z.number() }).nullable(),
  }),
});
export type ApiMetrics = z.infer<typeof metricsSchema>;

/** `GET /api/v1/policies`: every policy with the pods it selects and the directions it makes default-deny for each. */
export const policiesSchema = z.object({
  revision: z.number(),
  policies: z.array(z.object({
    kind: z.string(),
    namespace: z.string(),
    name: z.string(),
    selects: z.array(z.object({
      namespace: z.string(),
      pod_name: z.string(),
      node_name: z.string().optional(),
      ingress: z.boolean(),
      egress: z.boolean(),
    })),
  })),
});
export type ApiPolicyList = z.infer<typeof policiesSchema>;
export type ApiPolicy = ApiPolicyList['policies'][number];
