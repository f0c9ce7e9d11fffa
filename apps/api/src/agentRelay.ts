import {
  describeAgent,
  fetchAgentStatus,
  findAgentSockets,
  AgentRefusal,
  unixAgent,
  type AgentAddress,
  type ObserveStream,
} from '@tycho/agent/client';
import {
  DEFAULT_RING_CAPACITY,
  FlowRing,
  mergeTimeOrdered,
  type Flow,
  type GetFlowsResponse,
  type ObserveRequest,
  type ObserverStatus,
  type TimeOrderedSource,
} from '@tycho/flow';
import { observeAgentItems, type ObservedItem } from './agentObserveStream.ts';
import { FlowRate } from './flowRate.ts';
import { TimestampParser } from './timestampParser.ts';

export type NodeState = 'CONNECTED' | 'UNAVAILABLE' | 'ERROR';

/** One node as `GET /api/v1/nodes` shows it. */
export interface NodeView {
  name: string;
  state: NodeState;
  num_flows: number;
  max_flows: number;
  seen_flows: number;
  uptime_ns: number;
  error?: string;
}

/** `GET /api/v1/status`: Hubble Relay's ServerStatus plus flows/s. */
export interface RelayStatus {
  num_flows: number;
  max_flows: number;
  seen_flows: number;
  flows_per_second: number;
  uptime_ns: number;
  num_connected_nodes: number;
  num_unavailable_nodes: number;
  unavailable_nodes: string[];
}

/** Which held responses a query wants; times are epoch nanoseconds. */
export interface HeldFlowsQuery {
  sinceNs?: bigint;
  untilNs?: bigint;
  /** Last N flows (first N with `first`); all in range when absent. */
  number?: number;
  first?: boolean;
  matches?: (flow: Flow) => boolean;
}

/** A held flow as a cursor reads it: the flow, its time, and its JSON text (as bytes in pieces, or text) when the agent sent one. */
export interface HeldFlow {
  flow: Flow;
  timeNs: bigint;
  flowText: Uint8Array[] | string | undefined;
}

/**
 * Reads the held flows since a time a chunk at a time, all nodes merged by
 * time, and on up to the newest written when a chunk is read, so a caller
 * that yields between chunks and takes over from the live flows once `done`
 * (in the same turn) misses none and sees none twice. Entries overwritten
 * while it waited are skipped.
 */
export interface HeldFlowCursor {
  /** Looks at up to `maxEntries` more held entries; returns the flows among them that match. */
  read(maxEntries: number): HeldFlow[];
  /** True once a read found nothing more to look at. */
  readonly done: boolean;
}

export interface AgentRelayOptions {
  /** A fixed list of agents (a cluster's `--agent` flags). */
  agents?: readonly AgentAddress[];
  /** Agents found as `<socketDir>/<node>/agent.sock`, looked for again every `rescanMs`. */
  socketDir?: string;
  rescanMs?: number;
  /** Responses held per node; one less than a power of two. */
  heldPerNode?: number;
  statusPollMs?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  now?: () => number;
  log?: (line: string) => void;
}

interface HeldResponse {
  timeNs: bigint;
  /**
   * The response; for a flow held as its text, made from the text when a query
   * first reads it (see `heldResponse`).
   */
  response: GetFlowsResponse | undefined;
  /**
   * The flow's JSON text as the agent sent it, when the message allowed
   * cutting it out: its bytes in pieces (`ObservedItem.flowBytes`) when
   * known, so answers copy them instead of encoding the text again; else the
   * text. Once `responseJson` is made, one piece: a view of its bytes.
   */
  flowText: Uint8Array[] | string | undefined;
  /**
   * The whole response's JSON (`{"flow":…,"node_name":…,"time":…}`) in one
   * run of bytes, made when an answer first needs it (see
   * `heldResponseJson`), so every later answer copies it with one memcpy.
   */
  responseJson: Uint8Array | undefined;
  nodeName: string;
  time: string;
}

/**
 * The response of a held entry. Flows that came with their text are held as
 * that text, not as the parsed flow: the listeners have had the flow object,
 * and holding thousands of flow objects per node makes every young-generation
 * collection copy them. A query parses the few it reads, once.
 */
function heldResponse(held: HeldResponse): GetFlowsResponse {
  if (held.response) return held.response;
  const text = typeof held.flowText === 'string' ? held.flowText : Buffer.concat(held.flowText!).toString('utf8');
  return (held.response = { flow: JSON.parse(text) as Flow, node_name: held.nodeName, time: held.time });
}

function isHeldFlow(held: HeldResponse): boolean {
  return held.flowText !== undefined || held.response?.flow !== undefined;
}

const FLOW_HEAD = Buffer.from('{"flow":');
const LIST_OPEN = 0x5b; // [
const LIST_CLOSE = 0x5d; // ]
const COMMA = 0x2c; // ,
const NO_BYTES = new Uint8Array(0);

/**
 * The JSON of a held response in one run of bytes, the same bytes as
 * JSON.stringify of `heldResponse(held)`, made once: a flow held as its text
 * is spliced in as that text (which is how JSON.stringify writes the parsed
 * flow), not serialised again. The flow's pieces then give way to a view of
 * these bytes, so the held entry does not keep its whole arriving message
 * alive as well.
 */
function heldResponseJson(held: HeldResponse): Uint8Array {
  if (held.responseJson) return held.responseJson;
  if (held.flowText === undefined) return (held.responseJson = Buffer.from(JSON.stringify(held.response)));
  const tail = `,"node_name":${JSON.stringify(held.nodeName)},"time":${JSON.stringify(held.time)}}`;
  const flowPieces = typeof held.flowText === 'string' ? [Buffer.from(held.flowText)] : held.flowText;
  let length = FLOW_HEAD.length + Buffer.byteLength(tail);
  for (const piece of flowPieces) length += piece.length;
  const json = Buffer.allocUnsafe(length);
  json.set(FLOW_HEAD, 0);
  let at = FLOW_HEAD.length;
  for (const piece of flowPieces) {
    json.set(piece, at);
    at += piece.length;
  }
  json.write(tail, at, 'utf8');
  held.flowText = [json.subarray(FLOW_HEAD.length, at)];
  return (held.responseJson = json);
}

interface RelayNode {
  readonly address: AgentAddress;
  state: NodeState;
  error: string | undefined;
  status: ObserverStatus | undefined;
  /** Why the last status request of a connected agent failed (a busy agent): the node shows as ERROR meanwhile. */
  statusError: string | undefined;
  readonly held: FlowRing<HeldResponse>;
  stream: ObserveStream | undefined;
  failures: number;
  retryTimer: NodeJS.Timeout | undefined;
  /** Time of the newest response received: where a reconnect resumes. */
  newest: { time: string; timeNs: bigint } | undefined;
  /** Responses held at or after the resume point, so the replay does not add them twice. */
  replayed: Set<string>;
  /** Parses this node's flow times, which come in order. */
  readonly times: TimestampParser;
  /** Time of the last response written, and the last position written older than the one before it. */
  lastTimeNs: bigint | undefined;
  lastInversion: number;
}

/**
 * Called with each flow as it arrives, its time in epoch nanoseconds, its
 * JSON text as the agent sent it (undefined when not known: serialise the
 * flow), its time in epoch milliseconds, and the text's bytes in pieces when
 * known (`ObservedItem.flowBytes`).
 */
type FlowListener = (flow: Flow, timeNs: bigint, flowJson: string | undefined, timeMs: number, flowBytes: Uint8Array[] | undefined) => void;

const DEFAULT_RESCAN_MS = 2000;
const DEFAULT_STATUS_POLL_MS = 2000;
const DEFAULT_INITIAL_BACKOFF_MS = 200;
const DEFAULT_MAX_BACKOFF_MS = 5000;

function responseKey(response: GetFlowsResponse): string {
  return response.flow ? response.flow.uuid : `lost|${response.time}|${response.lost_events.source}|${response.lost_events.num_events_lost}`;
}

/**
 * Hubble Relay's part of the API: one follow subscription per agent
 * (reconnected with exponential backoff, capped at 5 s), node states
 * CONNECTED / UNAVAILABLE / ERROR, and the last flows of every node held
 * here, so `GET /api/v1/flows` and the service map never re-ask agents.
 *
 * Holding: each node's responses go into a `FlowRing` as the agent's own
 * ring does (default 4095 per node). A first subscription asks for that many
 * past flows; a reconnect resumes from the newest time held (`since`) and
 * drops what it already holds, so an agent restart or a network blip leaves
 * no gap the agent still remembers and no duplicates. Queries merge the
 * nodes by time.
 */
export class AgentRelay {
  private readonly nodesByName = new Map<string, RelayNode>();
  private readonly listeners = new Set<FlowListener>();
  private readonly rate: FlowRate;
  private readonly now: () => number;
  private readonly startedMs: number;
  private readonly log: (line: string) => void;
  private readonly timers: NodeJS.Timeout[] = [];
  private stopped = false;

  constructor(private readonly options: AgentRelayOptions) {
    this.now = options.now ?? Date.now;
    this.startedMs = this.now();
    this.rate = new FlowRate(10, this.now);
    this.log = options.log ?? (() => {});
  }

  start(): void {
    for (const agent of this.options.agents ?? []) this.addNode(agent);
    if (this.options.socketDir !== undefined) {
      this.scanSocketDir(this.options.socketDir);
      const socketDir = this.options.socketDir;
      this.timers.push(setInterval(() => this.scanSocketDir(socketDir), this.options.rescanMs ?? DEFAULT_RESCAN_MS));
    }
    this.pollStatus();
    this.timers.push(setInterval(() => this.pollStatus(), this.options.statusPollMs ?? DEFAULT_STATUS_POLL_MS));
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    for (const node of this.nodesByName.values()) {
      clearTimeout(node.retryTimer);
      node.stream?.close();
    }
  }

  /** Calls `listener` with every flow as it arrives from any node; returns the function that stops it. */
  onFlow(listener: FlowListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  nodes(): NodeView[] {
    return [...this.nodesByName.values()]
      .map((node) => ({
        name: node.address.node,
        // Hubble's NODE_ERROR: the stream is up but the agent does not answer its status.
        state: node.state === 'CONNECTED' && node.statusError !== undefined ? 'ERROR' : node.state,
        num_flows: node.status?.num_flows ?? 0,
        max_flows: node.status?.max_flows ?? 0,
        seen_flows: node.status?.seen_flows ?? 0,
        uptime_ns: node.status?.uptime_ns ?? 0,
        ...((node.error ?? node.statusError) !== undefined ? { error: node.error ?? node.statusError } : {}),
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Ready when at least one agent is connected. */
  isReady(): boolean {
    return [...this.nodesByName.values()].some((node) => node.state === 'CONNECTED');
  }

  status(): RelayStatus {
    const nodes = this.nodes();
    const connected = nodes.filter((node) => node.state === 'CONNECTED');
    const unavailable = nodes.filter((node) => node.state !== 'CONNECTED').map((node) => node.name);
    return {
      num_flows: sum(connected.map((node) => node.num_flows)),
      max_flows: sum(connected.map((node) => node.max_flows)),
      seen_flows: sum(connected.map((node) => node.seen_flows)),
      flows_per_second: this.rate.perSecond(),
      uptime_ns: (this.now() - this.startedMs) * 1e6,
      num_connected_nodes: connected.length,
      num_unavailable_nodes: unavailable.length,
      unavailable_nodes: unavailable,
    };
  }

  /**
   * Held responses that a query selects, all nodes merged oldest first (equal
   * times: nodes in the order they were added). Each node's ring is in time
   * order, so this merges from the newest end (or the oldest, with `first`)
   * and stops once `number` flows matched, instead of sorting all held flows.
   */
  heldFlows(query: HeldFlowsQuery = {}): GetFlowsResponse[] {
    return this.selectHeld(query).map(heldResponse);
  }

  /**
   * The bytes of `JSON.stringify(heldFlows(query))` (UTF-8) between `head`
   * and `tail`, copied from the bytes the agents sent into one buffer of the
   * answer's exact length. Without `matches`, no held flow is parsed or
   * serialised for it; a flow's response bytes are put together the first
   * time an answer holds it, and copied whole after that.
   */
  heldFlowsJson(query: HeldFlowsQuery = {}, { head = NO_BYTES, tail = NO_BYTES }: { head?: Uint8Array; tail?: Uint8Array } = {}): Buffer {
    const responses = this.selectHeld(query).map(heldResponseJson);
    let length = head.length + 2 + Math.max(0, responses.length - 1) + tail.length;
    for (const response of responses) length += response.length;
    const answer = Buffer.allocUnsafe(length);
    answer.set(head, 0);
    let at = head.length;
    answer[at++] = LIST_OPEN;
    for (let i = 0; i < responses.length; i++) {
      if (i > 0) answer[at++] = COMMA;
      answer.set(responses[i]!, at);
      at += responses[i]!.length;
    }
    answer[at++] = LIST_CLOSE;
    answer.set(tail, at);
    return answer;
  }

  /** A cursor over the held flows at or after `sinceNs` that pass `matches` (see HeldFlowCursor). */
  heldFlowCursor(query: { sinceNs?: bigint; matches?: (flow: Flow) => boolean } = {}): HeldFlowCursor {
    const nodes = [...this.nodesByName.values()];
    const starts = nodes.map((node) => (node.lastInversion <= node.held.oldestPosition ? firstPositionSince(node.held, query.sinceNs) : node.held.oldestPosition));
    return new MergingHeldCursor(
      nodes.map((node) => node.held),
      starts,
      query.sinceNs,
      query.matches,
    );
  }

  private selectHeld(query: HeldFlowsQuery): HeldResponse[] {
    const matches = query.matches;
    return mergeTimeOrdered(
      [...this.nodesByName.values()].map((node) => heldSource(node)),
      {
        from: query.first ? 'first' : 'last',
        ...(query.number !== undefined ? { limit: query.number } : {}),
        ...(query.sinceNs !== undefined ? { sinceNs: query.sinceNs } : {}),
        ...(query.untilNs !== undefined ? { untilNs: query.untilNs } : {}),
        ...(matches ? { accept: (held: HeldResponse) => !isHeldFlow(held) || matches(heldResponse(held).flow!) } : {}),
        counts: isHeldFlow,
      },
    );
  }

  private scanSocketDir(socketDir: string): void {
    for (const found of findAgentSockets(socketDir)) {
      if (!this.nodesByName.has(found.node)) this.addNode(unixAgent(found.node, found.socketPath));
    }
  }

  private addNode(address: AgentAddress): void {
    if (this.stopped) return;
    const node: RelayNode = {
      address,
      state: 'UNAVAILABLE',
      error: 'connecting',
      status: undefined,
      statusError: undefined,
      held: new FlowRing<HeldResponse>(this.options.heldPerNode ?? DEFAULT_RING_CAPACITY),
      stream: undefined,
      failures: 0,
      retryTimer: undefined,
      newest: undefined,
      replayed: new Set(),
      times: new TimestampParser(),
      lastTimeNs: undefined,
      lastInversion: -1,
    };
    this.nodesByName.set(address.node, node);
    this.log(`relay: following ${address.node} at ${describeAgent(address)}`);
    this.connect(node);
  }

  private connect(node: RelayNode): void {
    if (this.stopped) return;
    const request: ObserveRequest = node.newest ? { follow: true, since: node.newest.time } : { follow: true, number: node.held.maxFlows };
    node.replayed = node.newest ? this.heldSince(node, node.newest.timeNs) : new Set();
    const stream = observeAgentItems(node.address, request, {
      onOpen: () => {
        node.failures = 0;
        this.setState(node, 'CONNECTED', undefined);
        void this.refreshStatus(node);
      },
      onItem: (item) => this.receive(node, item),
    });
    node.stream = stream;
    stream.done.then(
      () => this.lost(node, stream, 'UNAVAILABLE', 'the agent ended the stream'),
      (err: Error) => this.lost(node, stream, err instanceof AgentRefusal ? 'ERROR' : 'UNAVAILABLE', err.message),
    );
  }

  private lost(node: RelayNode, stream: ObserveStream, state: NodeState, error: string): void {
    if (node.stream !== stream || this.stopped) return;
    node.stream = undefined;
    this.setState(node, state, error);
    const base = this.options.initialBackoffMs ?? DEFAULT_INITIAL_BACKOFF_MS;
    const delay = Math.min(this.options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS, base * 2 ** node.failures);
    node.failures = Math.min(node.failures + 1, 30);
    node.retryTimer = setTimeout(() => this.connect(node), delay);
  }

  private setState(node: RelayNode, state: NodeState, error: string | undefined): void {
    if (node.state !== state) this.log(`relay: ${node.address.node} is ${state}${error ? ` (${error})` : ''}`);
    node.state = state;
    node.error = error;
  }

  private heldSince(node: RelayNode, sinceNs: bigint): Set<string> {
    const keys = new Set<string>();
    for (let position = node.held.writePosition - 1; position >= node.held.oldestPosition; position--) {
      const held = node.held.read(position)?.entry;
      if (!held || held.timeNs < sinceNs) break;
      keys.add(responseKey(heldResponse(held)));
    }
    return keys;
  }

  private receive(node: RelayNode, { response, flowJson, flowBytes }: ObservedItem): void {
    if (node.replayed.size > 0 && node.replayed.has(responseKey(response))) return;
    const time = response.flow?.time ?? response.time;
    const parsedNs = node.times.epochNs(time);
    const timeNs = parsedNs ?? BigInt(this.now()) * 1_000_000n;
    if (node.lastTimeNs !== undefined && timeNs < node.lastTimeNs) node.lastInversion = node.held.writePosition;
    node.lastTimeNs = timeNs;
    node.held.write({ timeNs, response: flowJson === undefined ? response : undefined, flowText: flowBytes ?? flowJson, responseJson: undefined, nodeName: response.node_name, time: response.time });
    if (!node.newest || timeNs > node.newest.timeNs) node.newest = { time, timeNs };
    const flow = response.flow;
    if (!flow) return;
    const timeMs = parsedNs === undefined ? Number(timeNs / 1_000_000n) : node.times.lastMs;
    this.rate.add(timeMs);
    for (const listener of this.listeners) listener(flow, timeNs, flowJson, timeMs, flowBytes);
  }

  private pollStatus(): void {
    for (const node of this.nodesByName.values()) if (node.state === 'CONNECTED') void this.refreshStatus(node);
  }

  private async refreshStatus(node: RelayNode): Promise<void> {
    try {
      node.status = await fetchAgentStatus(node.address);
      if (node.statusError !== undefined) this.log(`relay: ${node.address.node} answers its status again`);
      node.statusError = undefined;
    } catch (err) {
      this.log(`relay: ${(err as Error).message}`);
      node.statusError = (err as Error).message;
    }
  }
}

/**
 * A node's held responses as a merge source, oldest first. Agents send them
 * in time order; should some arrive out of order (a clock step), the node's
 * entries are sorted once here (stably, as mergeByTime would).
 */
function heldSource(node: RelayNode): TimeOrderedSource<HeldResponse> {
  const ring = node.held;
  const oldest = ring.oldestPosition;
  const length = ring.writePosition - oldest;
  if (node.lastInversion <= oldest) {
    return {
      length,
      timeNs: (index) => ring.read(oldest + index)!.entry!.timeNs,
      entry: (index) => ring.read(oldest + index)!.entry!,
    };
  }
  const entries: HeldResponse[] = [];
  for (let position = oldest; position < ring.writePosition; position++) {
    const held = ring.read(position)?.entry;
    if (held) entries.push(held);
  }
  entries.sort((a, b) => (a.timeNs < b.timeNs ? -1 : a.timeNs > b.timeNs ? 1 : 0));
  return { length: entries.length, timeNs: (index) => entries[index]!.timeNs, entry: (index) => entries[index]! };
}

/**
 * HeldFlowCursor over the nodes' rings: each step takes the oldest head
 * among the nodes (a linear scan; there are few nodes). A node whose flows
 * came out of order (a clock step) is read in the order they came.
 */
class MergingHeldCursor implements HeldFlowCursor {
  private finished = false;

  constructor(
    private readonly rings: readonly FlowRing<HeldResponse>[],
    /** Where each ring's reading starts; advanced as it reads. */
    private readonly positions: number[],
    private readonly sinceNs: bigint | undefined,
    private readonly matches: ((flow: Flow) => boolean) | undefined,
  ) {}

  get done(): boolean {
    return this.finished;
  }

  read(maxEntries: number): HeldFlow[] {
    const flows: HeldFlow[] = [];
    for (let examined = 0; examined < maxEntries; examined++) {
      const next = this.oldestHead();
      if (next < 0) {
        this.finished = true;
        break;
      }
      const position = this.positions[next]!;
      this.positions[next] = position + 1;
      const held = this.rings[next]!.read(position)!.entry!;
      if (!isHeldFlow(held) || (this.sinceNs !== undefined && held.timeNs < this.sinceNs)) continue;
      const flow = heldResponse(held).flow!;
      if (this.matches && !this.matches(flow)) continue;
      flows.push({ flow, timeNs: held.timeNs, flowText: held.flowText });
    }
    return flows;
  }

  /** The index of the ring whose next entry is the oldest; -1 when every ring is read to its end. */
  private oldestHead(): number {
    let oldest = -1;
    let oldestNs = 0n;
    for (let i = 0; i < this.rings.length; i++) {
      const ring = this.rings[i]!;
      // Overwritten while the reader waited: those entries are gone, go on from the oldest held.
      if (this.positions[i]! < ring.oldestPosition) this.positions[i] = ring.oldestPosition;
      if (this.positions[i]! >= ring.writePosition) continue;
      const timeNs = ring.read(this.positions[i]!)!.entry!.timeNs;
      if (oldest < 0 || timeNs < oldestNs) {
        oldest = i;
        oldestNs = timeNs;
      }
    }
    return oldest;
  }
}

/** The first position of `ring` (in time order) at or after `sinceNs`, by binary search. */
function firstPositionSince(ring: FlowRing<HeldResponse>, sinceNs: bigint | undefined): number {
  let lo = ring.oldestPosition;
  if (sinceNs === undefined) return lo;
  let hi = ring.writePosition;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (ring.read(mid)!.entry!.timeNs < sinceNs) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
