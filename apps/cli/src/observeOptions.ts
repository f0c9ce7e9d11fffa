import { parseDuration, parseTimestamp } from '@tycho/flow';
import type { FlowFilter } from '@tycho/filters';
import { parseObserveRequest, type GetFlowsRequest } from '@tycho/agent/client';
import { InvalidArgumentError } from 'commander';

/** `tycho observe` flags as commander hands them over. */
export interface ObserveFlags {
  last?: number;
  first?: number;
  all?: boolean;
  follow?: boolean;
  since?: string;
  until?: string;
  node?: string[];
  socketDir: string;
  output: OutputFormat;
  printNodeName?: boolean;
  /** Built from the filter flags in the order given (`createFilterBuilder`). */
  filters?: { whitelist: FlowFilter[]; blacklist: FlowFilter[] };
}

export const OUTPUT_FORMATS = ['compact', 'json', 'jsonpb', 'dict', 'table'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface ObservePlan {
  request: GetFlowsRequest;
  /** Applied again after merging nodes: each node sends up to N, the merge keeps N overall. */
  limit?: { count: number; from: 'first' | 'last' };
}

/** Hubble's default when nothing selects a range: the last 20 flows. */
export const DEFAULT_LAST = 20;

/** Turns the flags into the request every agent gets; conflicting flags are errors. */
export function planObserve(flags: ObserveFlags, nowMs: number = Date.now()): ObservePlan {
  if (flags.last !== undefined && flags.first !== undefined) throw new Error('--last and --first cannot be used together');
  if (flags.all && (flags.last !== undefined || flags.first !== undefined)) throw new Error('--all cannot be used with --last or --first');
  if (flags.first !== undefined && flags.follow) throw new Error('--first cannot be used with --follow');
  if (flags.output === 'table' && flags.follow) throw new Error('-o table cannot be used with --follow: a table is printed once all flows are in');

  const request: GetFlowsRequest = {};
  if (flags.filters?.whitelist.length) request.whitelist = flags.filters.whitelist;
  if (flags.filters?.blacklist.length) request.blacklist = flags.filters.blacklist;
  if (flags.since !== undefined) request.since = parseTimeFlag('--since', flags.since, nowMs);
  if (flags.until !== undefined) request.until = parseTimeFlag('--until', flags.until, nowMs);
  if (flags.follow) request.follow = true;

  let limit: ObservePlan['limit'];
  if (flags.first !== undefined) {
    limit = { count: flags.first, from: 'first' };
    request.number = flags.first;
    request.first = true;
  } else if (flags.last !== undefined) {
    limit = { count: flags.last, from: 'last' };
    request.number = flags.last;
  } else if (!flags.all && !flags.follow && flags.since === undefined && flags.until === undefined) {
    limit = { count: DEFAULT_LAST, from: 'last' };
    request.number = DEFAULT_LAST;
  }

  const checked = parseObserveRequest(request);
  if (!checked.ok) throw new Error(checked.error);
  return { request: checked.request, ...(limit ? { limit } : {}) };
}

const TIME_FORMS = 'a duration such as 30s, 5m, 1h or an RFC 3339 time such as 2024-01-01T00:00:00Z';
const MAX_SHOWN_CHARS = 40;

/** `30s`, `5m`, `1h30m` (that long ago, back to 1970 at most) or an RFC 3339 time that exists → RFC 3339. */
export function parseTimeFlag(flag: string, text: string, nowMs: number): string {
  const shown = text.length > MAX_SHOWN_CHARS ? `${text.slice(0, MAX_SHOWN_CHARS)}…` : text;
  const duration = parseDuration(text);
  if (duration !== undefined) {
    if ('ms' in duration && duration.ms <= nowMs) return new Date(nowMs - duration.ms).toISOString();
    throw new Error(`${flag} '${shown}': reaches back before 1970-01-01T00:00:00Z; expected a duration of at most ${Math.floor(nowMs / 3_600_000)}h or an RFC 3339 time such as 2024-01-01T00:00:00Z`);
  }
  const timestamp = parseTimestamp(text);
  if (timestamp === undefined) throw new Error(`${flag} '${shown}': expected ${TIME_FORMS}`);
  if ('notRealTime' in timestamp) throw new Error(`${flag} '${shown}': not a real time: ${timestamp.notRealTime}; expected ${TIME_FORMS}`);
  return text;
}

/** Commander argument parser for counts (--last, --first): whole numbers a request can carry exactly. */
export function parseCount() {
  return (text: string): number => {
    if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > Number.MAX_SAFE_INTEGER) {
      throw new InvalidArgumentError(`expected a whole number from 1 to ${Number.MAX_SAFE_INTEGER}`);
    }
    return Number(text);
  };
}
