import type { GetFlowsResponse } from './observerApi.ts';

/**
 * One response as `hubble observe -o json` prints it: a single line holding
 * the GetFlowsResponse, the event first, then `node_name` and `time`.
 */
export function formatJson(response: GetFlowsResponse): string {
  const event = response.flow ? { flow: response.flow } : { lost_events: response.lost_events };
  return JSON.stringify({ ...event, node_name: response.node_name, time: response.time });
}
