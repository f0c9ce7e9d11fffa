// The two hooks of an endpoint's host-side veth: from_container on ingress
// (packets leaving the pod) and to_container on egress (packets to the pod).
// One place decides how programs get there, for the datapath and the benchmarks.
//
// tcx (Linux 6.6+) is preferred: its hook runs the program directly, where
// clsact goes through the tc classifier first (docs/benchmarks.md has the
// numbers). Each tcx link is pinned in the endpoint's directory under the
// node's pin dir, <pinDir>/endpoints/<ifindex>/{ingress,egress}, so the
// programs stay attached when the agent restarts, and a new agent replaces
// them through the pins. Kernels without tcx get clsact filters instead.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { addon } from './addon.ts';
import { attachTcProgram, detachTcProgram, tcProgramId, type TcDirection } from './tc.ts';
import { attachTcxProgram, detachTcxProgram, tcxProgramIds } from './tcx.ts';

export type HookKind = 'tcx' | 'clsact';

export interface EndpointPrograms {
  /** Runs on packets leaving the pod: ingress of the host veth. */
  ingressFd: number;
  /** Runs on packets going to the pod: egress of the host veth. */
  egressFd: number;
}

export interface EndpointHookOptions {
  /** The node's bpffs pin dir; tcx links are pinned below it. */
  pinDir: string;
  /** Force a kind of hook; by default tcx where the kernel has it, else clsact. */
  hook?: HookKind;
}

/** A program on one of the veth's hooks. */
export interface HookProgram {
  hook: HookKind;
  direction: TcDirection;
  id: number;
  /** The kernel's name for it (the first 15 characters of the function name). */
  name: string;
}

const DIRECTIONS: readonly TcDirection[] = ['ingress', 'egress'];

/** Where the endpoint's tcx links are pinned. */
export function endpointLinkDir(pinDir: string, ifindex: number): string {
  return join(pinDir, 'endpoints', String(ifindex));
}

/**
 * Puts the programs on the veth's hooks, replacing Tycho programs already there
 * (of either kind, so an endpoint never runs two). Returns the kind of hook used.
 */
export function attachEndpointPrograms(ifindex: number, programs: EndpointPrograms, options: EndpointHookOptions): HookKind {
  const fds: Record<TcDirection, number> = { ingress: programs.ingressFd, egress: programs.egressFd };
  const linkDir = endpointLinkDir(options.pinDir, ifindex);
  if (options.hook !== 'clsact') {
    mkdirSync(linkDir, { recursive: true });
    let attached = 0;
    for (const direction of DIRECTIONS) {
      if (attachTcxProgram(ifindex, direction, fds[direction], join(linkDir, direction))) attached++;
    }
    if (attached === DIRECTIONS.length) {
      // Only now, so the hooks are never without a program: clsact filters of an earlier attach.
      for (const direction of DIRECTIONS) detachTcProgram(ifindex, direction);
      return 'tcx';
    }
    if (options.hook === 'tcx') throw new Error(`cannot attach to ifindex ${ifindex} with tcx: the kernel has no tcx hooks (Linux 6.6+)`);
  }
  for (const direction of DIRECTIONS) attachTcProgram(ifindex, direction, fds[direction]);
  detachTcxLinks(linkDir);
  return 'clsact';
}

/** Takes Tycho's programs off the veth's hooks, of either kind. Idempotent, also when the veth is gone. */
export function detachEndpointPrograms(ifindex: number, options: Pick<EndpointHookOptions, 'pinDir'>): void {
  detachTcxLinks(endpointLinkDir(options.pinDir, ifindex));
  for (const direction of DIRECTIONS) detachTcProgram(ifindex, direction);
}

function detachTcxLinks(linkDir: string): void {
  for (const direction of DIRECTIONS) detachTcxProgram(join(linkDir, direction));
  rmSync(linkDir, { recursive: true, force: true });
}

/**
 * The programs on the veth's hooks, as the kernel lists them: every tcx program
 * (Tycho's or not) and Tycho's clsact filter. Ingress first, each in run order.
 */
export function hookPrograms(ifindex: number): HookProgram[] {
  const programs: HookProgram[] = [];
  const add = (hook: HookKind, direction: TcDirection, id: number): void => {
    programs.push({ hook, direction, id, name: addon.programName(id) ?? '' });
  };
  for (const direction of DIRECTIONS) {
    for (const id of tcxProgramIds(ifindex, direction)) add('tcx', direction, id);
    const clsactId = tcProgramId(ifindex, direction);
    if (clsactId !== 0) add('clsact', direction, clsactId);
  }
  return programs;
}
