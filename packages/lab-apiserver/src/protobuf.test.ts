import { describe, expect, it } from 'vitest';

import { decodeProtobufObject } from './protobuf.ts';
import { StatusError } from './status.ts';

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest > 0x7f) {
    bytes.push((rest & 0x7f) | 0x80);
    rest >>>= 7;
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

function bytesField(number: number, value: Buffer | string): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value) : value;
  return Buffer.concat([varint((number << 3) | 2), varint(bytes.length), bytes]);
}

function varintField(number: number, value: number): Buffer {
  return Buffer.concat([varint(number << 3), varint(value)]);
}

function envelope(apiVersion: string, kind: string, raw: Buffer): Buffer {
  const typeMeta = Buffer.concat([bytesField(1, apiVersion), bytesField(2, kind)]);
  return Buffer.concat([Buffer.from('k8s\0'), bytesField(1, typeMeta), bytesField(2, raw), bytesField(3, ''), bytesField(4, '')]);
}

const mapEntry = (key: string, value: string) => Buffer.concat([bytesField(1, key), bytesField(2, value)]);

describe('decodeProtobufObject', () => {
  it('decodes a ConfigMap as kubectl 1.32 sends it, leaving empty fields out', () => {
    const metadata = Buffer.concat([bytesField(1, 'settings'), bytesField(2, ''), bytesField(3, ''), bytesField(11, mapEntry('app', 'web'))]);
    const raw = Buffer.concat([bytesField(1, metadata), bytesField(2, mapEntry('a', '1')), bytesField(2, mapEntry('b', 'two'))]);
    expect(decodeProtobufObject(envelope('v1', 'ConfigMap', raw))).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', labels: { app: 'web' } }, data: { a: '1', b: 'two' } });
  });

  it('keeps a pointer field\'s zero value: a Deployment created with --replicas=0', () => {
    const spec = Buffer.concat([varintField(1, 0), varintField(5, 0)]);
    const raw = Buffer.concat([bytesField(1, bytesField(1, 'web')), bytesField(2, spec)]);
    expect(decodeProtobufObject(envelope('apps/v1', 'Deployment', raw))).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 0 } });
  });

  it('refuses with 415 a set field it does not know, a kind it cannot decode, and a body without the magic', () => {
    const unknownField = Buffer.concat([bytesField(1, bytesField(1, 'x')), bytesField(9, 'surprise')]);
    expect(() => decodeProtobufObject(envelope('v1', 'ConfigMap', unknownField))).toThrow(/field 9 of ConfigMap/);
    try {
      decodeProtobufObject(envelope('v1', 'Pod', Buffer.alloc(0)));
    } catch (error) {
      expect((error as StatusError).status).toMatchObject({ code: 415, reason: 'UnsupportedMediaType' });
    }
    expect(() => decodeProtobufObject(Buffer.from('{"kind":"Pod"}'))).toThrow(/magic bytes/);
  });
});
