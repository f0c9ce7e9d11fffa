// The network configuration tycho-cni reads on stdin, validated by one schema (see README.md).
import { z } from 'zod';
import { CniError, CniErrorCode } from './cniError.ts';
import { currentCniVersion, isSupportedCniVersion, supportedCniVersions } from './cniVersion.ts';
import { isIpv4, parseIpv4Subnet } from './ipv4.ts';
import { describeIssues } from './schemaIssues.ts';

const absolutePath = z.string().startsWith('/', { error: 'expected an absolute path' });

const podSubnet = z.string().check((ctx) => {
  try {
    const subnet = parseIpv4Subnet(ctx.value);
    if (subnet.prefixLength > 30) {
      ctx.issues.push({
        code: 'custom',
        input: ctx.value,
        message: `"${ctx.value}" is too small: expected a prefix of /30 or shorter (network, node and broadcast addresses are reserved)`,
      });
    }
  } catch (error) {
    ctx.issues.push({ code: 'custom', input: ctx.value, message: (error as Error).message });
  }
});

const ipv4Address = z.string().refine(isIpv4, { error: (issue) => `expected a dotted-quad IPv4 address, got ${JSON.stringify(issue.input)}` });

/** Fields the runtime may add (`runtimeConfig`, `args`, `prevResult`, `cni.dev/…`) pass through untouched. */
export const netConfSchema = z.looseObject({
  cniVersion: z.enum(supportedCniVersions),
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, {
    error: 'expected a network name starting with a letter or digit, then letters, digits, "_", "." or "-"',
  }),
  type: z.string().min(1),
  mtu: z.number().int().min(68).max(65535).default(1500),
  agentSocket: absolutePath,
  /** How long each request to the agent may take before ADD gives up (and rolls back). */
  agentTimeoutMs: z.number().int().min(100).max(60_000).default(5_000),
  ipMasq: z.boolean().optional(),
  ipam: z.looseObject({
    type: z.string().optional(),
    subnet: podSubnet,
    gateway: ipv4Address.default('169.254.1.1'),
    dataDir: absolutePath,
  }),
  dns: z
    .object({
      nameservers: z.array(z.string()).optional(),
      domain: z.string().optional(),
      search: z.array(z.string()).optional(),
      options: z.array(z.string()).optional(),
    })
    .optional(),
  prevResult: z.looseObject({ ips: z.array(z.looseObject({ address: z.string() })).optional() }).optional(),
});

export type NetConf = z.infer<typeof netConfSchema>;

/** The `cniVersion` to answer with, even when the rest of the configuration is unusable. */
export function cniVersionForReply(stdin: string): string {
  try {
    const version: unknown = (JSON.parse(stdin) as { cniVersion?: unknown } | null)?.cniVersion;
    return isSupportedCniVersion(version) ? version : currentCniVersion;
  } catch {
    return currentCniVersion;
  }
}

export function parseNetConf(stdin: string): NetConf {
  let raw: unknown;
  try {
    raw = JSON.parse(stdin);
  } catch (error) {
    throw new CniError(
      CniErrorCode.decodingFailure,
      'network configuration on stdin is not JSON',
      `${(error as Error).message}; expected a JSON object like {"cniVersion":"1.0.0","name":"tycho","type":"tycho-cni",…}`,
    );
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new CniError(CniErrorCode.decodingFailure, 'network configuration on stdin is not a JSON object', `got ${jsonKind(raw)}`);
  }
  const version = (raw as { cniVersion?: unknown }).cniVersion;
  if (version !== undefined && !isSupportedCniVersion(version)) {
    throw new CniError(
      CniErrorCode.incompatibleVersion,
      'incompatible CNI version',
      `network configuration cniVersion is ${JSON.stringify(version)}; tycho-cni supports ${supportedCniVersions.join(', ')}`,
    );
  }
  const parsed = netConfSchema.safeParse(raw);
  if (!parsed.success) {
    throw new CniError(CniErrorCode.invalidNetworkConfig, 'invalid network configuration', describeIssues(parsed.error, 'network configuration'));
  }
  rejectUnsupportedFields(parsed.data);
  return parsed.data;
}

/**
 * What a decoded value is, in a few words: the value itself is not quoted back, as a list
 * nested thousands of levels deep would overflow the stack of JSON.stringify.
 */
function jsonKind(value: unknown): string {
  if (Array.isArray(value)) return `a list of ${value.length} item${value.length === 1 ? '' : 's'}`;
  if (typeof value === 'string') return `a string of ${value.length} character${value.length === 1 ? '' : 's'}`;
  return JSON.stringify(value);
}

/** Well-known CNI fields that tycho-cni understands but cannot honour (spec code 2 names key and value). */
function rejectUnsupportedFields(conf: NetConf): void {
  if (conf.ipMasq === true) {
    throw new CniError(
      CniErrorCode.unsupportedField,
      'unsupported field in network configuration',
      'ipMasq=true: tycho-cni does not masquerade pod traffic; remove ipMasq or set it to false',
    );
  }
  if (conf.ipam.type !== undefined) {
    throw new CniError(
      CniErrorCode.unsupportedField,
      'unsupported field in network configuration',
      `ipam.type=${JSON.stringify(conf.ipam.type)}: tycho-cni allocates addresses itself and does not delegate to an IPAM plugin; remove ipam.type`,
    );
  }
}
