// tc (clsact) attachment of programs to an interface, through libbpf's netlink API.
import { addon } from './addon.ts';

export type TcDirection = 'ingress' | 'egress';

// Tycho's filter slot on each hook, so replacing and detaching touch only ours.
export const TC_HANDLE = 0x7479;
export const TC_PRIORITY = 1;

/** Attaches `progFd` at the hook, creating clsact if needed and replacing a
 * Tycho program already there. Returns the attached program's id. */
export function attachTcProgram(ifindex: number, direction: TcDirection, progFd: number): number {
  return addon.tcAttach(ifindex, direction, TC_HANDLE, TC_PRIORITY, progFd);
}

/** Detaches Tycho's program from the hook. Idempotent: false when none was attached. */
export function detachTcProgram(ifindex: number, direction: TcDirection): boolean {
  return addon.tcDetach(ifindex, direction, TC_HANDLE, TC_PRIORITY);
}

/** Id of Tycho's program at the hook, or 0. */
export function tcProgramId(ifindex: number, direction: TcDirection): number {
  return addon.tcQuery(ifindex, direction, TC_HANDLE, TC_PRIORITY);
}
