import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

import { BpfObject } from './bpfObject.ts';
import { u32Codec, u64Codec } from './codecs.ts';
import { DEFAULT_OBJECT_PATH } from './nodeDatapath.ts';

describe('BpfObject', () => {
  it('opening a missing file throws with the path and the reason', () => {
    expect(() => BpfObject.open('/nonexistent/bpf_lxc.o')).toThrow(/opening BPF object \/nonexistent\/bpf_lxc.o: No such file or directory/);
  });

  it('lists the endpoint programs and the datapath maps', () => {
    const object = BpfObject.open(DEFAULT_OBJECT_PATH);
    try {
      expect(object.programNames().sort()).toEqual(['from_container', 'to_container']);
      expect(object.mapNames().sort()).toEqual([
        'tycho_config', 'tycho_counters', 'tycho_ct4', 'tycho_ct6', 'tycho_endpoints', 'tycho_events', 'tycho_ipcache4', 'tycho_policy', 'tycho_policy_ep',
      ]);
    } finally {
      object.close();
    }
  });

  it('without a pin root pins nothing, not even under /sys/fs/bpf', () => {
    const object = BpfObject.open(DEFAULT_OBJECT_PATH);
    try {
      expect(existsSync('/sys/fs/bpf/tycho_ct4')).toBe(false);
    } finally {
      object.close();
    }
  });

  it('refuses a codec whose size differs from the map value size', () => {
    const object = BpfObject.open(DEFAULT_OBJECT_PATH);
    try {
      expect(() => object.map('tycho_endpoints', u32Codec, u64Codec)).toThrow(
        /map 'tycho_endpoints': value codec is 8 bytes but the map's value size is 16/,
      );
    } finally {
      object.close();
    }
  });

  it('an unknown program name throws, naming the program and the object', () => {
    const object = BpfObject.open(DEFAULT_OBJECT_PATH);
    try {
      expect(() => object.programFd('nope')).toThrow(/no program 'nope' in .*bpf_lxc.o/);
    } finally {
      object.close();
    }
  });
});
