// DEL: deregister the endpoint, delete the veth pair, free the address. Best effort and idempotent:
// an unreachable agent, a missing netns or an already deleted veth are not errors.
import { createAgentClient } from '../agentClient.ts';
import { CniError, CniErrorCode } from '../cniError.ts';
import type { DelEnvironment } from '../environment.ts';
import { createIpam } from '../ipam.ts';
import { NetlinkError } from '../netlink.ts';
import type { NetConf } from '../netconf.ts';
import { logDiagnostic } from '../stderrLog.ts';
import { deleteHostVeth, hostIfnameFor } from '../veth.ts';

export async function delCommand(env: DelEnvironment, conf: NetConf): Promise<void> {
  const hostIfname = hostIfnameFor(env.containerId);

  try {
    await createAgentClient(conf.agentSocket, { timeoutMs: conf.agentTimeoutMs }).deregisterEndpoint(env.containerId);
  } catch (error) {
    logDiagnostic(`endpoint ${env.containerId} not deregistered, continuing: ${(error as Error).message}`);
  }

  try {
    await deleteHostVeth(hostIfname);
  } catch (error) {
    // Keep the address reserved: freeing it while the old veth still routes it would hand it out twice.
    if (error instanceof NetlinkError) {
      throw new CniError(CniErrorCode.interfaceSetupFailed, 'could not delete the pod interface', `${error.message}; the address stays allocated until DEL succeeds`);
    }
    throw error;
  }

  const freed = await createIpam(conf.ipam).release({ containerId: env.containerId, ifname: env.ifname });
  if (freed.length > 0) logDiagnostic(`freed ${freed.join(', ')} of container ${env.containerId}`);
}
