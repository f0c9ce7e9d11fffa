// Host-local IPv4 address management: one file per allocated address in dataDir.
//
// The file is created with O_EXCL, so two plugin processes racing for the same address cannot
// both win; the loser moves on to the next address. Files outlive the process, so allocations
// survive plugin and node-agent restarts until DEL frees them.
import { mkdir, open, readdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { CniError, CniErrorCode } from './cniError.ts';
import { intToIpv4, ipv4ToInt, isIpv4, parseIpv4Subnet, subnetContains } from './ipv4.ts';

export interface IpamOwner {
  containerId: string;
  ifname: string;
}

export interface IpamAllocation {
  ip: string;
  /** Undefined when the record is unreadable (e.g. its writer died mid-write): the address stays taken. */
  owner: IpamOwner | undefined;
}

const ownerRecordSchema = z.object({ containerId: z.string(), ifname: z.string() });

/** Remembers where the last search ended, so freed addresses are not reused at once. */
const lastReservedFile = 'last_reserved_ip';

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

function ioFailure(action: string, path: string, error: unknown): CniError {
  return new CniError(CniErrorCode.ioFailure, `IPAM could not ${action}`, `${path}: ${(error as Error).message}`);
}

export function createIpam(options: { subnet: string; dataDir: string }) {
  const { dataDir } = options;
  const subnet = parseIpv4Subnet(options.subnet);
  // The network address, the first address (the node's) and the broadcast address are never handed out.
  const first = subnet.network + 2;
  const last = subnet.network + subnet.size - 2;
  const capacity = Math.max(0, last - first + 1);

  const isSameOwner = (a: IpamOwner | undefined, b: IpamOwner) => a?.containerId === b.containerId && a.ifname === b.ifname;

  async function readOwner(ip: string): Promise<IpamOwner | undefined> {
    try {
      const parsed = ownerRecordSchema.safeParse(JSON.parse(await readFile(join(dataDir, ip), 'utf8')));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  async function searchStart(): Promise<number> {
    try {
      const hint = (await readFile(join(dataDir, lastReservedFile), 'utf8')).trim();
      if (isIpv4(hint) && subnetContains(subnet, hint)) {
        const next = ipv4ToInt(hint) + 1;
        return next >= first && next <= last ? next : first;
      }
    } catch {
      // No hint yet: start at the bottom of the range.
    }
    return first;
  }

  /** Tries to claim one address; false when another owner already holds it. */
  async function claim(ip: string, owner: IpamOwner): Promise<boolean> {
    const path = join(dataDir, ip);
    let file;
    try {
      file = await open(path, 'wx', 0o644);
    } catch (error) {
      if (errorCode(error) === 'EEXIST') return false;
      throw ioFailure('reserve an address', path, error);
    }
    try {
      await file.writeFile(JSON.stringify({ containerId: owner.containerId, ifname: owner.ifname }));
    } catch (error) {
      await unlink(path).catch(() => undefined);
      throw ioFailure('record an allocation', path, error);
    } finally {
      await file.close();
    }
    return true;
  }

  /** Frees one address; freeing an address that is not allocated is not an error. */
  async function free(ip: string): Promise<void> {
    const path = join(dataDir, ip);
    try {
      await unlink(path);
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw ioFailure('free an address', path, error);
    }
  }

  async function list(): Promise<IpamAllocation[]> {
    let names: string[];
    try {
      names = await readdir(dataDir);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return [];
      throw ioFailure('list allocations', dataDir, error);
    }
    const ips = names.filter((name) => isIpv4(name) && subnetContains(subnet, name)).sort((a, b) => ipv4ToInt(a) - ipv4ToInt(b));
    return Promise.all(ips.map(async (ip) => ({ ip, owner: await readOwner(ip) })));
  }

  return {
    capacity,

    /** Reserves a free address for the owner; fails with code 100 when every address is taken. */
    async allocate(owner: IpamOwner): Promise<string> {
      try {
        await mkdir(dataDir, { recursive: true });
      } catch (error) {
        throw ioFailure('create its data directory', dataDir, error);
      }
      const start = await searchStart();
      for (let offset = 0; offset < capacity; offset++) {
        const ip = intToIpv4(first + ((start - first + offset) % capacity));
        if (await claim(ip, owner)) {
          await writeFile(join(dataDir, lastReservedFile), ip).catch(() => undefined);
          return ip;
        }
      }
      throw new CniError(
        CniErrorCode.ipRangeExhausted,
        'IP range exhausted',
        `all ${capacity} addresses ${intToIpv4(first)}-${intToIpv4(last)} of ipam.subnet ${options.subnet} are allocated in ${dataDir}; delete a pod or configure a larger subnet`,
      );
    },

    free,

    /** Frees every address held by the owner and returns them; none held is not an error. */
    async release(owner: IpamOwner): Promise<string[]> {
      const held = (await list()).filter((allocation) => isSameOwner(allocation.owner, owner)).map((allocation) => allocation.ip);
      for (const ip of held) await free(ip);
      return held;
    },

    /** The address held by the owner, if any. */
    async find(owner: IpamOwner): Promise<string | undefined> {
      return (await list()).find((allocation) => isSameOwner(allocation.owner, owner))?.ip;
    },

    list,
  } as const;
}

export type Ipam = ReturnType<typeof createIpam>;
