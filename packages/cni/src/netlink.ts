// The one place tycho-cni changes kernel network state: `ip` (iproute2) child processes, entered
// into a pod's network namespace through `nsenter` when needed. Arguments always go as arrays,
// never through a shell.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { z } from 'zod';

const execFileAsync = promisify(execFile);

export class NetlinkError extends Error {
  readonly argv: readonly string[];
  readonly stderr: string;

  constructor(argv: readonly string[], stderr: string) {
    super(`\`${argv.join(' ')}\` failed: ${stderr.trim() || 'no output'}`);
    this.name = 'NetlinkError';
    this.argv = argv;
    this.stderr = stderr;
  }

  /** iproute2's wording when the named device is absent. */
  get isMissingDevice(): boolean {
    return /does not exist|Cannot find device/i.test(this.stderr);
  }
}

/** Where a command runs: the plugin's own (node) namespace, or a pod namespace given by path. */
export interface NamespaceTarget {
  netnsPath?: string | undefined;
}

/** Runs `ip <args>` and returns its stdout. */
export async function ip(args: readonly string[], target: NamespaceTarget = {}): Promise<string> {
  const argv = target.netnsPath === undefined ? ['ip', ...args] : ['nsenter', `--net=${target.netnsPath}`, 'ip', ...args];
  const [file, ...rest] = argv as [string, ...string[]];
  try {
    const { stdout } = await execFileAsync(file, rest, { encoding: 'utf8', timeout: 10_000 });
    return stdout;
  } catch (error) {
    const failure = error as { stderr?: string; message: string };
    throw new NetlinkError(argv, failure.stderr || failure.message);
  }
}

const linkSchema = z.looseObject({
  ifindex: z.number(),
  ifname: z.string(),
  mtu: z.number(),
  address: z.string().optional(),
  operstate: z.string().optional(),
  flags: z.array(z.string()).default([]),
});

export type Link = z.infer<typeof linkSchema>;

const addressSchema = z.looseObject({
  ifname: z.string(),
  addr_info: z.array(z.looseObject({ family: z.string(), local: z.string(), prefixlen: z.number() })).default([]),
});

function parseIpJson<T>(schema: z.ZodType<T>, stdout: string, what: string): T[] {
  const parsed = z.array(schema).safeParse(JSON.parse(stdout === '' ? '[]' : stdout));
  if (!parsed.success) throw new Error(`unexpected \`ip -j\` output for ${what}: ${parsed.error.message}`);
  return parsed.data;
}

/** The link named `name`, or undefined when there is none. */
export async function findLink(name: string, target: NamespaceTarget = {}): Promise<Link | undefined> {
  try {
    return parseIpJson(linkSchema, await ip(['-j', 'link', 'show', 'dev', name], target), `link ${name}`)[0];
  } catch (error) {
    if (error instanceof NetlinkError && error.isMissingDevice) return undefined;
    throw error;
  }
}

/** IPv4 addresses on `name` as `a.b.c.d/len`. */
export async function ipv4AddressesOf(name: string, target: NamespaceTarget = {}): Promise<string[]> {
  const links = parseIpJson(addressSchema, await ip(['-j', '-4', 'addr', 'show', 'dev', name], target), `addresses of ${name}`);
  return links.flatMap((link) => link.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`));
}

/** Sets a per-interface IPv4 sysctl of the plugin's own namespace (/proc/sys/net follows the writer's netns). */
export async function setInterfaceSysctl(ifname: string, key: string, value: string): Promise<void> {
  const path = `/proc/sys/net/ipv4/conf/${ifname}/${key}`;
  try {
    await writeFile(path, value);
  } catch (error) {
    throw new NetlinkError(['write', value, 'to', path], (error as Error).message);
  }
}
