// ADD: allocate an address, create and configure the veth pair, register the endpoint with the
// node agent. Every step taken is undone, newest first, if a later step fails; a registration
// that failed without a refusal is withdrawn too (DELETE), as the agent may have applied it.
import { stat } from 'node:fs/promises';
import { AgentResponseError, AgentUnreachableError, createAgentClient } from '../agentClient.ts';
import { CniError, CniErrorCode } from '../cniError.ts';
import { attachmentResult, type CniResult } from '../cniResult.ts';
import type { AddEnvironment } from '../environment.ts';
import { createIpam } from '../ipam.ts';
import { NetlinkError } from '../netlink.ts';
import type { NetConf } from '../netconf.ts';
import { logDiagnostic } from '../stderrLog.ts';
import { configureHostSide, configurePodSide, createVethPair, deleteHostVeth, findHostLink, findPodLink, hostIfnameFor } from '../veth.ts';

interface UndoStep {
  what: string;
  run: () => Promise<unknown>;
}

export async function addCommand(env: AddEnvironment, conf: NetConf): Promise<CniResult> {
  const ipam = createIpam(conf.ipam);
  const agent = createAgentClient(conf.agentSocket, { timeoutMs: conf.agentTimeoutMs });
  const hostIfname = hostIfnameFor(env.containerId);
  const owner = { containerId: env.containerId, ifname: env.ifname };
  const undo: UndoStep[] = [];

  try {
    await requireNetns(env.netns);
    await requireFreeInterfaceNames(env, hostIfname);

    const ipv4 = await ipam.allocate(owner);
    undo.push({ what: `free ${ipv4}`, run: () => ipam.free(ipv4) });

    await createVethPair({ hostIfname, podIfname: env.ifname, podNetnsPath: env.netns, mtu: conf.mtu });
    undo.push({ what: `delete ${hostIfname}`, run: () => deleteHostVeth(hostIfname) });

    await configurePodSide({ podIfname: env.ifname, podNetnsPath: env.netns, ipv4, gateway: conf.ipam.gateway });
    await configureHostSide({ hostIfname, ipv4 });

    const hostLink = await findHostLink(hostIfname);
    const podLink = await findPodLink(env.ifname, env.netns);
    if (hostLink === undefined || podLink === undefined) {
      throw new CniError(CniErrorCode.interfaceSetupFailed, 'veth pair vanished during setup', `${hostIfname} or ${env.ifname} in ${env.netns} is gone`);
    }

    const endpoint = await agent
      .registerEndpoint({
        containerId: env.containerId,
        podName: env.podName,
        namespace: env.podNamespace,
        netns: env.netns,
        ifname: env.ifname,
        hostIfname,
        hostIfindex: hostLink.ifindex,
        ipv4,
      })
      .catch((error: unknown) => {
        // Unless the agent refused it, the registration may have been applied (an answer that came
        // too late, a connection lost after sending, a 2xx with a bad body): withdraw it, so no
        // endpoint outlives the veth it points at. The DELETE is bounded by the same timeout.
        if (!isRefusal(error)) undo.push({ what: `deregister endpoint ${env.containerId}`, run: () => agent.deregisterEndpoint(env.containerId) });
        throw error;
      });
    logDiagnostic(`endpoint ${endpoint.id} (identity ${endpoint.identity}) registered for ${env.podNamespace}/${env.podName} at ${ipv4}`);

    return attachmentResult(
      conf.cniVersion,
      { hostIfname, hostMac: hostLink.address ?? '', podIfname: env.ifname, podMac: podLink.address ?? '', netns: env.netns, ipv4, gateway: conf.ipam.gateway },
      conf.dns ?? {},
    );
  } catch (error) {
    for (const step of undo.reverse()) {
      await step.run().catch((undoError: unknown) => logDiagnostic(`rollback step "${step.what}" failed: ${(undoError as Error).message}`));
    }
    throw asAddError(error, conf.agentSocket);
  }
}

async function requireNetns(netns: string): Promise<void> {
  try {
    await stat(netns);
  } catch {
    throw new CniError(CniErrorCode.unknownContainer, 'container network namespace does not exist', `CNI_NETNS=${netns} is not a file; expected the path of the pod's network namespace`);
  }
}

async function requireFreeInterfaceNames(env: AddEnvironment, hostIfname: string): Promise<void> {
  if ((await findPodLink(env.ifname, env.netns)) !== undefined) {
    throw new CniError(
      CniErrorCode.interfaceSetupFailed,
      'interface already exists in the container',
      `${env.ifname} already exists in ${env.netns}; expected CNI_IFNAME to name a new interface`,
    );
  }
  if ((await findHostLink(hostIfname)) !== undefined) {
    throw new CniError(
      CniErrorCode.interfaceSetupFailed,
      'host interface already exists',
      `${hostIfname} (derived from CNI_CONTAINERID=${env.containerId}) exists in the node namespace; a previous ADD of this container was not deleted, run DEL first`,
    );
  }
}

/** The agent answered that it will not take the endpoint: it applied nothing. */
function isRefusal(error: unknown): boolean {
  return error instanceof AgentResponseError && error.status >= 400 && error.status < 500;
}

function asAddError(error: unknown, agentSocket: string): unknown {
  if (error instanceof AgentUnreachableError) {
    return new CniError(CniErrorCode.tryAgainLater, 'node agent unreachable', `${error.message}; expected the agent to listen on agentSocket ${agentSocket}; retry once it runs`);
  }
  if (error instanceof AgentResponseError) {
    return new CniError(CniErrorCode.agentRejected, 'node agent refused the endpoint', error.message);
  }
  if (error instanceof NetlinkError) {
    return new CniError(CniErrorCode.interfaceSetupFailed, 'could not set up the pod interface', error.message);
  }
  return error;
}
