import { readLabState } from './state.ts';
import { inNetns, runCommand, type CommandResult } from './systemCommand.ts';

/** Runs `argv` in a lab pod's network namespace (the node's for host-network pods). */
export async function execInPod(namespace: string, podName: string, argv: readonly string[]): Promise<CommandResult> {
  const state = readLabState();
  if (!state) throw new Error('no lab is running');
  const pod = state.pods.find((p) => p.namespace === namespace && (p.name === podName || p.owner === `Deployment/${namespace}/${podName}`));
  if (!pod?.netns) throw new Error(`no running lab pod ${namespace}/${podName} (pods: ${state.pods.map((p) => p.name).join(', ')})`);
  const [file, ...args] = inNetns(pod.netns, argv);
  return runCommand(file as string, args);
}
