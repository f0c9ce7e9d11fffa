// cgroup attachment (BPF links on a cgroup v2 directory), pinned in bpffs so a
// program stays attached after the process that attached it exits and can be
// replaced or detached later through the pin. A program on a cgroup runs for
// the sockets of every process in that cgroup and the cgroups below it.
import { addon } from './addon.ts';

/** The socket-address hooks the service load-balancer uses. */
export type CgroupSockHook = 'connect4' | 'sendmsg4' | 'recvmsg4' | 'getpeername4';

export const CGROUP_SOCK_HOOKS: readonly CgroupSockHook[] = ['connect4', 'sendmsg4', 'recvmsg4', 'getpeername4'];

/** Attaches `progFd` at the hook of the cgroup through the link pinned at `pinPath`, creating
 * and pinning the link if there is none (or only a defunct one, whose cgroup went away). An
 * existing link gets the new program atomically. */
export function attachCgroupProgram(cgroupPath: string, hook: CgroupSockHook, progFd: number, pinPath: string): void {
  addon.cgroupAttach(cgroupPath, hook, progFd, pinPath);
}

/** Detaches the link pinned at `pinPath` (even if another process holds it open) and unpins
 * it. Idempotent: false when nothing was pinned there. */
export function detachCgroupProgram(pinPath: string): boolean {
  return addon.cgroupDetach(pinPath);
}

/** Ids of the programs attached at the hook of this cgroup itself (not inherited ones). */
export function cgroupProgramIds(cgroupPath: string, hook: CgroupSockHook): number[] {
  return addon.cgroupQuery(cgroupPath, hook);
}
