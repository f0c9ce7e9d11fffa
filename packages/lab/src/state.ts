import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { STATE_FILE } from './paths.ts';

const podStateSchema = z.object({
  namespace: z.string(),
  name: z.string(),
  /** `Deployment/<ns>/<name>`, `DaemonSet/…` or `Pod/…`. */
  owner: z.string(),
  node: z.string(),
  netns: z.string(),
  hostNetwork: z.boolean(),
  ip: z.string().optional(),
  containerId: z.string(),
  cgroup: z.string(),
  pids: z.array(z.number().int()),
  ready: z.boolean(),
  restarts: z.number().int(),
  logFile: z.string(),
  /** Each container's last readiness-probe outcome (absent in older state files). */
  probes: z.array(z.object({ ok: z.boolean(), detail: z.string() })).optional(),
});

export const labStateSchema = z.object({
  phase: z.enum(['starting', 'running', 'stopping', 'failed']),
  error: z.string().optional(),
  supervisorPid: z.number().int(),
  startedAtMs: z.number(),
  manifests: z.array(z.string()),
  nodes: z.array(
    z.object({ name: z.string(), netns: z.string(), ip: z.string(), podCidr: z.string(), agentSocket: z.string(), agentPid: z.number().int().optional() }),
  ),
  world: z.object({ netns: z.string(), pid: z.number().int().optional() }),
  /** The API and web app (apps/api); absent in state files of labs from before it. */
  api: z.object({ url: z.string(), pid: z.number().int().optional() }).optional(),
  deployments: z.array(z.object({ namespace: z.string(), name: z.string(), replicas: z.number().int(), createdAtMs: z.number() })),
  pods: z.array(podStateSchema),
  pending: z.array(z.object({ namespace: z.string(), name: z.string(), reason: z.string() })),
});

/** What the supervisor publishes in /run/tycho/lab/state.json for the CLI, tests and `labDown()`. */
export type LabState = z.infer<typeof labStateSchema>;
export type PodState = z.infer<typeof podStateSchema>;

export function writeLabState(state: LabState, file = STATE_FILE): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

/** The running lab's state, or undefined when no lab is up. */
export function readLabState(file = STATE_FILE): LabState | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const parsed = labStateSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`lab: ${file} is not a lab state file: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}
