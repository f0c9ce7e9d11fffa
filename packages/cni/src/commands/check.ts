// CHECK: the attachment still looks like what ADD made: IPAM record, veth pair, pod address.
import { stat } from 'node:fs/promises';
import { CniError, CniErrorCode } from '../cniError.ts';
import type { CheckEnvironment } from '../environment.ts';
import { createIpam } from '../ipam.ts';
import { ipv4AddressesOf } from '../netlink.ts';
import type { NetConf } from '../netconf.ts';
import { findHostLink, findPodLink, hostIfnameFor } from '../veth.ts';

function mismatch(details: string): CniError {
  return new CniError(CniErrorCode.attachmentMismatch, 'attachment differs from what ADD created', details);
}

export async function checkCommand(env: CheckEnvironment, conf: NetConf): Promise<void> {
  const ipv4 = await createIpam(conf.ipam).find({ containerId: env.containerId, ifname: env.ifname });
  if (ipv4 === undefined) {
    throw new CniError(
      CniErrorCode.unknownContainer,
      'unknown container',
      `no address is allocated to container ${env.containerId} interface ${env.ifname} in ${conf.ipam.dataDir}; expected a container added by ADD`,
    );
  }
  try {
    await stat(env.netns);
  } catch {
    throw new CniError(CniErrorCode.unknownContainer, 'container network namespace does not exist', `CNI_NETNS=${env.netns} is not a file`);
  }

  const expectedAddress = `${ipv4}/32`;
  const previous = conf.prevResult?.ips?.map((ip) => ip.address) ?? [];
  if (previous.length > 0 && !previous.includes(expectedAddress)) {
    throw mismatch(`prevResult lists ${previous.join(', ')} but ${conf.ipam.dataDir} records ${expectedAddress} for container ${env.containerId}`);
  }

  const hostIfname = hostIfnameFor(env.containerId);
  const hostLink = await findHostLink(hostIfname);
  if (hostLink === undefined) throw mismatch(`host interface ${hostIfname} is missing from the node namespace`);
  if (!hostLink.flags.includes('UP')) throw mismatch(`host interface ${hostIfname} is down; expected UP`);
  if (hostLink.mtu !== conf.mtu) throw mismatch(`host interface ${hostIfname} has MTU ${hostLink.mtu}; expected ${conf.mtu}`);

  const podLink = await findPodLink(env.ifname, env.netns);
  if (podLink === undefined) throw mismatch(`interface ${env.ifname} is missing from ${env.netns}`);
  if (!podLink.flags.includes('UP')) throw mismatch(`interface ${env.ifname} in ${env.netns} is down; expected UP`);

  const addresses = await ipv4AddressesOf(env.ifname, { netnsPath: env.netns });
  if (!addresses.includes(expectedAddress)) {
    throw mismatch(`interface ${env.ifname} in ${env.netns} has [${addresses.join(', ')}]; expected ${expectedAddress} as recorded by IPAM`);
  }
}
