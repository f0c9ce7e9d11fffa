// The CNI_* environment variables of one invocation, validated by one schema per command.
import { z } from 'zod';
import { CniError, CniErrorCode } from './cniError.ts';
import { describeIssues } from './schemaIssues.ts';

const containerId = z.string({ error: 'is required' }).regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, {
  error: 'expected a letter or digit followed by letters, digits, "_", "." or "-"',
});

const ifname = z
  .string({ error: 'is required' })
  .min(1, { error: 'must not be empty' })
  .max(15, { error: 'expected an interface name of at most 15 characters' })
  .refine((name) => name !== '.' && name !== '..' && !/[/:\s]/.test(name), {
    error: 'expected an interface name without "/", ":" or whitespace, and not "." or ".."',
  });

const netnsPath = z.string({ error: 'is required' }).startsWith('/', { error: 'expected a network namespace path like /var/run/netns/<name>' });

/** `CNI_ARGS` is `KEY=VALUE;KEY=VALUE`; an empty or absent value means no arguments. */
const cniArgs = z
  .string()
  .optional()
  .transform((text, ctx) => {
    const args: Record<string, string> = {};
    for (const pair of (text ?? '').split(';').filter((part) => part !== '')) {
      const equals = pair.indexOf('=');
      if (equals <= 0) {
        ctx.issues.push({ code: 'custom', input: text, message: `expected KEY=VALUE pairs separated by ";", got "${pair}"` });
        return z.NEVER;
      }
      args[pair.slice(0, equals)] = pair.slice(equals + 1);
    }
    return args;
  });

const podArgs = z.object({
  K8S_POD_NAMESPACE: z.string({ error: 'is required (the pod namespace)' }).min(1),
  K8S_POD_NAME: z.string({ error: 'is required (the pod name)' }).min(1),
});

const emptyAsAbsent = (value: unknown) => (value === '' ? undefined : value);

const environmentSchema = z.discriminatedUnion(
  'CNI_COMMAND',
  [
    z
      .object({
        CNI_COMMAND: z.literal('ADD'),
        CNI_CONTAINERID: containerId,
        CNI_NETNS: netnsPath,
        CNI_IFNAME: ifname,
        CNI_ARGS: cniArgs.pipe(podArgs),
      })
      .transform((env) => ({
        command: env.CNI_COMMAND,
        containerId: env.CNI_CONTAINERID,
        netns: env.CNI_NETNS,
        ifname: env.CNI_IFNAME,
        podNamespace: env.CNI_ARGS.K8S_POD_NAMESPACE,
        podName: env.CNI_ARGS.K8S_POD_NAME,
      })),
    z
      .object({
        CNI_COMMAND: z.literal('DEL'),
        CNI_CONTAINERID: containerId,
        CNI_NETNS: z.preprocess(emptyAsAbsent, netnsPath.optional()),
        CNI_IFNAME: ifname,
        CNI_ARGS: cniArgs,
      })
      .transform((env) => ({ command: env.CNI_COMMAND, containerId: env.CNI_CONTAINERID, netns: env.CNI_NETNS, ifname: env.CNI_IFNAME })),
    z
      .object({
        CNI_COMMAND: z.literal('CHECK'),
        CNI_CONTAINERID: containerId,
        CNI_NETNS: netnsPath,
        CNI_IFNAME: ifname,
        CNI_ARGS: cniArgs,
      })
      .transform((env) => ({ command: env.CNI_COMMAND, containerId: env.CNI_CONTAINERID, netns: env.CNI_NETNS, ifname: env.CNI_IFNAME })),
    z.object({ CNI_COMMAND: z.literal('VERSION') }).transform((env) => ({ command: env.CNI_COMMAND })),
  ],
  {
    error: (issue) => {
      const command = (issue.input as { CNI_COMMAND?: unknown } | undefined)?.CNI_COMMAND;
      return command === undefined ? 'is required (ADD, DEL, CHECK or VERSION)' : `expected ADD, DEL, CHECK or VERSION, got ${JSON.stringify(command)}`;
    },
  },
);

export type CniEnvironment = z.infer<typeof environmentSchema>;
export type AddEnvironment = Extract<CniEnvironment, { command: 'ADD' }>;
export type DelEnvironment = Extract<CniEnvironment, { command: 'DEL' }>;
export type CheckEnvironment = Extract<CniEnvironment, { command: 'CHECK' }>;

export function parseEnvironment(env: NodeJS.ProcessEnv): CniEnvironment {
  const parsed = environmentSchema.safeParse(env);
  if (!parsed.success) {
    throw new CniError(CniErrorCode.invalidEnvironment, 'invalid CNI environment variables', describeIssues(parsed.error, 'environment variable'));
  }
  return parsed.data;
}
