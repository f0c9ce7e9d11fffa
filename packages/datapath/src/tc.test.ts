import { describe, expect, it } from 'vitest';

import { BpfObject } from './bpfObject.ts';
import { DEFAULT_OBJECT_PATH } from './nodeDatapath.ts';
import { attachTcProgram, detachTcProgram, tcProgramId } from './tc.ts';
import { attachTcxProgram, detachTcxProgram, tcxProgramIds } from './tcx.ts';

// No interface has this index; nothing on the machine is touched.
const MISSING_IFINDEX = 999_999;

describe('tc attachment errors', () => {
  it('attaching to a missing interface throws, naming the hook, the ifindex and the reason', () => {
    const object = BpfObject.open(DEFAULT_OBJECT_PATH);
    try {
      expect(() => attachTcProgram(MISSING_IFINDEX, 'ingress', object.programFd('from_container'))).toThrow(
        /tc ingress on ifindex 999999.*: No such device/,
      );
    } finally {
      object.close();
    }
  });

  it('detaching from a missing interface is a no-op', () => {
    expect(detachTcProgram(MISSING_IFINDEX, 'egress')).toBe(false);
  });

  it('a missing interface has no program attached', () => {
    expect(tcProgramId(MISSING_IFINDEX, 'ingress')).toBe(0);
  });
});

describe('tcx attachment errors', () => {
  it('attaching to a missing interface throws, naming the hook, the ifindex and the reason', () => {
    const object = BpfObject.open(DEFAULT_OBJECT_PATH);
    try {
      expect(() => attachTcxProgram(MISSING_IFINDEX, 'egress', object.programFd('to_container'), '/sys/fs/bpf/tycho-test-no-such-link')).toThrow(
        /tcx egress on ifindex 999999.*: No such device/,
      );
    } finally {
      object.close();
    }
  });

  it('detaching a link that was never pinned is a no-op', () => {
    expect(detachTcxProgram('/sys/fs/bpf/tycho-test-no-such-link')).toBe(false);
  });

  it('a missing interface has no program attached', () => {
    expect(tcxProgramIds(MISSING_IFINDEX, 'ingress')).toEqual([]);
  });
});
