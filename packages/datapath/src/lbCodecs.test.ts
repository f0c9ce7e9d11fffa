import { describe, expect, it } from 'vitest';

import { btfStructLayout } from './btfLayout.ts';
import { decodeFromBuffer, encodeToBuffer, type Codec, type StructLayout } from './codecs.ts';
import {
  lb4BackendCodec,
  lb4KeyCodec,
  lb4NodeCodec,
  lb4ReverseNatCodec,
  lb4ReverseSkKeyCodec,
  lb4ReverseSkValueCodec,
  lb4ServiceCodec,
  lbAffinityKeyCodec,
  lbAffinityValueCodec,
  lbLayouts,
  type Lb4Service,
} from './lbCodecs.ts';
import { SOCK_OBJECT_PATH } from './serviceDatapath.ts';

const allLayouts: StructLayout[] = Object.values(lbLayouts);

describe('lb codec layouts match the BTF of bpf_sock.o', () => {
  it.each(allLayouts.map((layout) => [layout.name, layout] as const))('%s has every compiled member at the compiled offset and size', (name, layout) => {
    const compiled = btfStructLayout(SOCK_OBJECT_PATH, name);
    expect(layout.size).toBe(compiled.size);
    const ours = Object.entries(layout.fields).map(([field, f]) => ({ name: field, offset: f.offset, size: f.size }));
    expect(ours).toEqual(compiled.members.map((m) => ({ name: m.name, offset: m.offsetBytes, size: m.sizeBytes })));
  });

  it('codec sizes equal their layouts', () => {
    const pairs: [Codec<unknown>, StructLayout][] = [
      [lb4KeyCodec as Codec<unknown>, lbLayouts.lb4Key],
      [lb4ServiceCodec as Codec<unknown>, lbLayouts.lb4Service],
      [lb4BackendCodec as Codec<unknown>, lbLayouts.lb4Backend],
      [lb4ReverseNatCodec as Codec<unknown>, lbLayouts.lb4ReverseNat],
      [lbAffinityKeyCodec as Codec<unknown>, lbLayouts.lbAffinityKey],
      [lbAffinityValueCodec as Codec<unknown>, lbLayouts.lbAffinityValue],
      [lb4ReverseSkKeyCodec as Codec<unknown>, lbLayouts.lb4ReverseSkKey],
      [lb4ReverseSkValueCodec as Codec<unknown>, lbLayouts.lb4ReverseSkValue],
      [lb4NodeCodec as Codec<unknown>, lbLayouts.lb4Node],
    ];
    for (const [codec, layout] of pairs) expect(codec.size, layout.name).toBe(layout.size);
  });
});

describe('lb codecs', () => {
  it('a service key: address and port in network order, slot and scope as numbers', () => {
    const key = { address: '10.96.0.10', port: 53, protocol: 'UDP', scope: 'internal', backendSlot: 2 } as const;
    const bytes = encodeToBuffer(lb4KeyCodec, key);
    expect([...bytes]).toEqual([10, 96, 0, 10, 0, 53, 2, 0, 17, 1, 0, 0]);
    expect(decodeFromBuffer(lb4KeyCodec, bytes)).toEqual(key);
  });

  it('a frontend entry with its flags', () => {
    const value: Lb4Service = {
      backendId: 0,
      count: 3,
      revNatIndex: 7,
      flags: { type: 'NodePort', sessionAffinity: true, externalLocal: true, twoScopes: true, routable: true, maglev: true },
      affinityTimeoutSeconds: 10800,
    };
    expect(decodeFromBuffer(lb4ServiceCodec, encodeToBuffer(lb4ServiceCodec, value))).toEqual(value);
  });

  it('a backend, a reverse-NAT entry, affinity and reverse-socket records', () => {
    const backend = { address: '10.244.1.12', port: 8080, protocol: 'TCP', state: 'active' } as const;
    expect(decodeFromBuffer(lb4BackendCodec, encodeToBuffer(lb4BackendCodec, backend))).toEqual(backend);
    const revNat = { address: '0.0.0.0', port: 31414 };
    expect(decodeFromBuffer(lb4ReverseNatCodec, encodeToBuffer(lb4ReverseNatCodec, revNat))).toEqual(revNat);
    const affinityKey = { netnsCookie: 4_294_967_297n, revNatIndex: 5 };
    expect(decodeFromBuffer(lbAffinityKeyCodec, encodeToBuffer(lbAffinityKeyCodec, affinityKey))).toEqual(affinityKey);
    const skKey = { cookie: 12n, address: '10.244.0.98', port: 53 };
    expect(decodeFromBuffer(lb4ReverseSkKeyCodec, encodeToBuffer(lb4ReverseSkKeyCodec, skKey))).toEqual(skKey);
  });

  it('refuses what the structs cannot hold, naming the field', () => {
    expect(() => encodeToBuffer(lb4KeyCodec, { address: 'fd00::1', port: 80, protocol: 'TCP', scope: 'external', backendSlot: 0 })).toThrow(
      "lb map: frontend address 'fd00::1' is not an IPv4 address",
    );
    expect(() => encodeToBuffer(lb4KeyCodec, { address: '10.96.0.1', port: 70000, protocol: 'TCP', scope: 'external', backendSlot: 0 })).toThrow(
      'lb map: port 70000 is not an integer in 0..65535',
    );
  });
});
