import { readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * What the supervisor tells a container process to run (written as JSON to
 * /run/tycho/lab/pods/<ns>_<pod>.json and passed as the only argument).
 */
export const containerSpecSchema = z.object({
  namespace: z.string(),
  pod: z.string(),
  container: z.string(),
  workload: z.enum(['echo', 'prober', 'dns']),
  env: z.record(z.string(), z.string()),
  ports: z.array(z.object({ port: z.number().int(), protocol: z.enum(['TCP', 'UDP', 'SCTP']) })),
  readinessProbe: z
    .object({
      command: z.array(z.string()).min(1),
      periodMs: z.number().int().positive(),
      timeoutMs: z.number().int().positive(),
      failureThreshold: z.number().int().positive(),
      initialDelayMs: z.number().int().min(0),
    })
    .optional(),
  /** Cluster DNS servers and search path (kubelet's resolv.conf for the pod). */
  nameservers: z.array(z.string()),
  searchDomains: z.array(z.string()),
  /** For the dns workload: the zone file the supervisor keeps current. */
  dnsRecordsFile: z.string(),
});

export type ContainerSpec = z.infer<typeof containerSpecSchema>;

export function readContainerSpec(file: string): ContainerSpec {
  const parsed = containerSpecSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`container spec ${file}: ${issue?.path.join('.')}: ${issue?.message}`);
  }
  return parsed.data;
}
