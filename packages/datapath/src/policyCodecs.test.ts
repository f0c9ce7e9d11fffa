import { describe, expect, it } from 'vitest';

import { btfStructLayout } from './btfLayout.ts';
import { decodeFromBuffer, encodeToBuffer, type Codec, type StructLayout } from './codecs.ts';
import { DEFAULT_OBJECT_PATH } from './nodeDatapath.ts';
import {
  ipcacheEntryCodec,
  ipcacheKey4Codec,
  policyEndpointCodec,
  policyKeyCodec,
  policyLayouts,
  policyValueCodec,
} from './policyCodecs.ts';

const allLayouts: StructLayout[] = Object.values(policyLayouts);

describe('policy codec layouts match the BTF of bpf_lxc.o', () => {
  it.each(allLayouts.map((layout) => [layout.name, layout] as const))('%s has every compiled member at the compiled offset and size', (name, layout) => {
    const compiled = btfStructLayout(DEFAULT_OBJECT_PATH, name);
    expect(layout.size).toBe(compiled.size);
    const ours = Object.entries(layout.fields).map(([field, f]) => ({ name: field, offset: f.offset, size: f.size }));
    expect(ours).toEqual(compiled.members.map((m) => ({ name: m.name, offset: m.offsetBytes, size: m.sizeBytes })));
  });

  it('codec sizes equal their layouts', () => {
    const pairs: [Codec<unknown>, StructLayout][] = [
      [ipcacheKey4Codec as Codec<unknown>, policyLayouts.ipcacheKey4],
      [ipcacheEntryCodec as Codec<unknown>, policyLayouts.ipcacheEntry],
      [policyKeyCodec as Codec<unknown>, policyLayouts.policyKey],
      [policyValueCodec as Codec<unknown>, policyLayouts.policyEntry],
      [policyEndpointCodec as Codec<unknown>, policyLayouts.policyEndpoint],
    ];
    for (const [codec, layout] of pairs) expect(codec.size, layout.name).toBe(layout.size);
  });
});

describe('policy codecs', () => {
  it('an ipcache key: prefix length, then the address in network order', () => {
    const key = { address: '10.244.0.0', prefixLen: 24 };
    const bytes = encodeToBuffer(ipcacheKey4Codec, key);
    expect([...bytes]).toEqual([24, 0, 0, 0, 10, 244, 0, 0]);
    expect(decodeFromBuffer(ipcacheKey4Codec, bytes)).toEqual(key);
  });

  it('a policy key counts the 72 exact bits in its prefix and keeps the port in network order', () => {
    const key = { endpointId: 7, direction: 'egress', identity: 16777217, protocol: 6, port: 8080, prefixLen: 24 } as const;
    const bytes = encodeToBuffer(policyKeyCodec, key);
    expect([...bytes]).toEqual([96, 0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 1, 1, 6, 0x1f, 0x90]);
    expect(decodeFromBuffer(policyKeyCodec, bytes)).toEqual(key);
  });

  it('a policy value, endpoint flags and an ipcache entry round-trip', () => {
    const value = { deny: true, policyList: 3 };
    expect(decodeFromBuffer(policyValueCodec, encodeToBuffer(policyValueCodec, value))).toEqual(value);
    const flags = { ingress: { enforced: false, needsLookup: true }, egress: { enforced: true, needsLookup: true } };
    expect([...encodeToBuffer(policyEndpointCodec, flags)]).toEqual([0x2 | 0x4 | 0x8, 0, 0, 0]);
    expect(decodeFromBuffer(policyEndpointCodec, encodeToBuffer(policyEndpointCodec, flags))).toEqual(flags);
    const entry = { identity: 6, local: false };
    expect(decodeFromBuffer(ipcacheEntryCodec, encodeToBuffer(ipcacheEntryCodec, entry))).toEqual(entry);
  });

  it('refuses what the structs cannot hold, naming the field', () => {
    expect(() => encodeToBuffer(ipcacheKey4Codec, { address: 'fd00::1', prefixLen: 128 })).toThrow(
      "policy map: ipcache address 'fd00::1' is not an IPv4 address",
    );
    expect(() => encodeToBuffer(ipcacheKey4Codec, { address: '10.0.0.0', prefixLen: 33 })).toThrow('policy map: ipcache prefix length 33 is not an integer in 0..32');
    expect(() => encodeToBuffer(policyKeyCodec, { endpointId: 1, direction: 'ingress', identity: 2, protocol: 6, port: 70000, prefixLen: 24 })).toThrow(
      'policy map: port 70000 is not an integer in 0..65535',
    );
  });
});
