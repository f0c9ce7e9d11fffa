import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CniError, CniErrorCode } from './cniError.ts';
import { createIpam } from './ipam.ts';

const pod = (n: number) => ({ containerId: `container-${n}`, ifname: 'eth0' });

describe('createIpam', () => {
  let dataDir: string;

  beforeEach(async () => {
    dataDir = join(await mkdtemp(join(tmpdir(), 'tycho-t-cni-ipam-')), 'ipam');
  });

  afterEach(async () => {
    await rm(join(dataDir, '..'), { recursive: true, force: true });
  });

  it('hands out the first address after the node address, .2, first', async () => {
    const ipam = createIpam({ subnet: '10.244.0.0/24', dataDir });
    expect(await ipam.allocate(pod(1))).toBe('10.244.0.2');
  });

  it('hands out a different address to each owner', async () => {
    const ipam = createIpam({ subnet: '10.244.0.0/24', dataDir });
    const first = await ipam.allocate(pod(1));
    const second = await ipam.allocate(pod(2));
    expect(second).not.toBe(first);
  });

  it('records the container id and interface in one file named after the address', async () => {
    const ipam = createIpam({ subnet: '10.244.0.0/24', dataDir });
    const ip = await ipam.allocate(pod(1));
    expect(JSON.parse(await readFile(join(dataDir, ip), 'utf8'))).toEqual({ containerId: 'container-1', ifname: 'eth0' });
  });

  it('never hands out the network, node (.1) or broadcast address', async () => {
    const ipam = createIpam({ subnet: '10.244.0.0/29', dataDir });
    const handedOut = [];
    for (let n = 0; n < ipam.capacity; n++) handedOut.push(await ipam.allocate(pod(n)));
    expect(handedOut.sort()).toEqual(['10.244.0.2', '10.244.0.3', '10.244.0.4', '10.244.0.5', '10.244.0.6']);
  });

  it('fails with code 100 naming the subnet and data directory when the range is exhausted', async () => {
    const ipam = createIpam({ subnet: '10.244.0.0/30', dataDir });
    await ipam.allocate(pod(1));
    const failure = await ipam.allocate(pod(2)).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(CniError);
    expect((failure as CniError).code).toBe(CniErrorCode.ipRangeExhausted);
    expect((failure as CniError).details).toContain('10.244.0.0/30');
    expect((failure as CniError).details).toContain(dataDir);
  });

  it('makes a released address available again', async () => {
    const ipam = createIpam({ subnet: '10.244.0.0/30', dataDir });
    const ip = await ipam.allocate(pod(1));
    expect(await ipam.release(pod(1))).toEqual([ip]);
    expect(await ipam.allocate(pod(2))).toBe(ip);
  });

  it('treats releasing an owner without an address as success', async () => {
    const ipam = createIpam({ subnet: '10.244.0.0/24', dataDir });
    expect(await ipam.release(pod(1))).toEqual([]);
  });

  it('does not reuse a freed address while unused ones remain', async () => {
    const ipam = createIpam({ subnet: '10.244.0.0/24', dataDir });
    const first = await ipam.allocate(pod(1));
    await ipam.release(pod(1));
    expect(await ipam.allocate(pod(2))).not.toBe(first);
  });

  it('keeps allocations across instances, as across plugin invocations', async () => {
    const ip = await createIpam({ subnet: '10.244.0.0/24', dataDir }).allocate(pod(1));
    const later = createIpam({ subnet: '10.244.0.0/24', dataDir });
    expect(await later.find(pod(1))).toBe(ip);
    expect(await later.allocate(pod(2))).not.toBe(ip);
  });

  it('gives concurrent allocations distinct addresses', async () => {
    const instances = Array.from({ length: 40 }, () => createIpam({ subnet: '10.244.0.0/24', dataDir }));
    const ips = await Promise.all(instances.map((ipam, n) => ipam.allocate(pod(n))));
    expect(new Set(ips).size).toBe(40);
    expect((await readdir(dataDir)).filter((name) => name.startsWith('10.244.0.')).length).toBe(40);
  });

  it('fills a small range exactly under concurrent allocation, refusing the surplus', async () => {
    const instances = Array.from({ length: 10 }, () => createIpam({ subnet: '10.244.0.0/29', dataDir }));
    const results = await Promise.allSettled(instances.map((ipam, n) => ipam.allocate(pod(n))));
    const won = results.filter((result) => result.status === 'fulfilled').map((result) => result.value);
    expect(new Set(won).size).toBe(5);
    expect(results.filter((result) => result.status === 'rejected')).toHaveLength(5);
  });

  it('finds nothing for an owner that holds no address', async () => {
    const ipam = createIpam({ subnet: '10.244.0.0/24', dataDir });
    await ipam.allocate(pod(1));
    expect(await ipam.find(pod(2))).toBeUndefined();
  });
});
