import { followAgent, observeAgent, unixAgent, type FollowOptions } from '@tycho/agent/client';
import { createTimeOrderedBuffer, limitFlows, mergeByTime, type GetFlowsResponse } from '@tycho/flow';
import { createFlowOutput } from './flowOutput.ts';
import { selectAgentSockets } from './agentSockets.ts';
import { planObserve, type ObserveFlags } from './observeOptions.ts';

export interface ObserveIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Zone of compact times; Hubble prints local time. */
  timeZone?: 'local' | 'utc';
  /** Ends a followed stream (Ctrl-C in the real CLI). */
  stopSignal?: AbortSignal;
  /** How a followed stream whose agent went away is retried; 200 ms doubling up to 5 s by default. */
  reconnect?: FollowOptions;
}

/**
 * `tycho observe`: asks every selected agent for the same flows over its
 * `/v1/observe` WebSocket and prints them merged by time. Nodes that cannot
 * be reached are reported and skipped; it fails only when none answered.
 * With `--follow`, a node whose stream breaks (its agent restarted) is
 * reconnected with backoff and resumes where it was, without repeating flows.
 */
export async function runObserve(flags: ObserveFlags, io: ObserveIo): Promise<void> {
  const plan = planObserve(flags);
  const agents = selectAgentSockets(flags.socketDir, flags.node ?? []);
  const output = createFlowOutput(flags.output, { printNodeName: flags.printNodeName ?? false, timeZone: io.timeZone ?? 'local' }, io.stdout);
  const print = (response: GetFlowsResponse) => output.print(response);

  if (!plan.request.follow) {
    const perNode = agents.map(() => [] as GetFlowsResponse[]);
    const streams = agents.map((agent, i) => observeAgent(unixAgent(agent.node, agent.socketPath), plan.request, (r) => perNode[i]?.push(r)));
    const failures = await settle(streams.map((stream) => stream.done), io);
    if (failures === agents.length) throw new Error('no agent answered');
    let merged = mergeByTime(perNode);
    if (plan.limit) merged = limitFlows(merged, plan.limit.count, plan.limit.from);
    merged.forEach(print);
    output.end();
    return;
  }

  const buffer = createTimeOrderedBuffer(print);
  const streams = agents.map((agent) =>
    followAgent(
      unixAgent(agent.node, agent.socketPath),
      plan.request,
      {
        onResponse: buffer.push,
        onLost: (reason, retryInMs) => io.stderr(`tycho observe: ${reason}; reconnecting in ${retryInMs} ms\n`),
        onResumed: (since) => io.stderr(`tycho observe: ${agent.node}: reconnected${since === undefined ? '' : `, resuming from ${since}`}\n`),
      },
      io.reconnect,
    ),
  );
  const onStop = () => streams.forEach((stream) => stream.close());
  io.stopSignal?.addEventListener('abort', onStop, { once: true });
  const failures = await settle(streams.map((stream) => stream.done), io);
  io.stopSignal?.removeEventListener('abort', onStop);
  buffer.flush();
  output.end();
  if (failures === agents.length && !io.stopSignal?.aborted) throw new Error('no agent answered');
}

async function settle(streams: Promise<void>[], io: ObserveIo): Promise<number> {
  const results = await Promise.allSettled(streams);
  let failures = 0;
  for (const result of results) {
    if (result.status === 'rejected') {
      failures++;
      io.stderr(`tycho observe: ${(result.reason as Error).message}\n`);
    }
  }
  return failures;
}
