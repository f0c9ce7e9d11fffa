import { describe, expect, it } from 'vitest';
import { parseHttpHead } from './httpHead.ts';

const ascii = (text: string) => new TextEncoder().encode(text);

// What the connectivity-check probes send (curl) and what echo servers answer.
const GET = ascii('GET /public HTTP/1.1\r\nHost: echo-a:8080\r\nUser-Agent: curl/7.88.1\r\naccept: */*\r\n\r\n');
const OK = ascii('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nContent-Length: 33\r\nDate: Mon, 01 Jan 2024 00:00:01 GMT\r\n\r\n{"path":"/public","method":"GET"}');

describe('parseHttpHead', () => {
  it('reads a request line and its headers, keys canonical and sorted', () => {
    expect(parseHttpHead(GET)).toEqual({
      kind: 'request', method: 'GET', target: '/public', protocol: 'HTTP/1.1', complete: true,
      headers: [
        { key: 'Accept', value: '*/*' },
        { key: 'Host', value: 'echo-a:8080' },
        { key: 'User-Agent', value: 'curl/7.88.1' },
      ],
    });
  });

  it('reads a status line and stops at the blank line before the body', () => {
    expect(parseHttpHead(OK)).toEqual({
      kind: 'response', protocol: 'HTTP/1.1', code: 200, reason: 'OK', complete: true,
      headers: [
        { key: 'Content-Length', value: '33' },
        { key: 'Content-Type', value: 'application/json' },
        { key: 'Date', value: 'Mon, 01 Jan 2024 00:00:01 GMT' },
      ],
    });
  });

  it('reads HTTP/1.0 and a status line without a reason phrase', () => {
    expect(parseHttpHead(ascii('HTTP/1.0 404\r\n\r\n'))).toMatchObject({ kind: 'response', code: 404, reason: '' });
    expect(parseHttpHead(ascii('POST /api?x=1 HTTP/1.0\r\n\r\n'))).toMatchObject({ method: 'POST', target: '/api?x=1', protocol: 'HTTP/1.0' });
  });

  it('gives no record until the first line is whole, then the whole header lines that fit', () => {
    const firstLineEnd = 'GET /public HTTP/1.1\r\n'.length;
    for (let length = 0; length < GET.length; length++) {
      const head = parseHttpHead(GET.subarray(0, length));
      if (length < firstLineEnd) {
        expect(head, `prefix of ${length} bytes`).toBeUndefined();
        continue;
      }
      expect(head).toMatchObject({ kind: 'request', method: 'GET', target: '/public', complete: false });
      const whole = parseHttpHead(GET)!.headers;
      for (const header of head!.headers) expect(whole).toContainEqual(header);
    }
  });

  it('refuses what is not an HTTP/1.x head', () => {
    for (const text of [
      'HTTP/2 200\r\n\r\n',
      'HTTP/1.1 999 Nope\r\n\r\n',
      'get / HTTP/1.1\r\n\r\n',
      'GET /  HTTP/1.1\r\n\r\n',
      'GET / HTTP/1.1\nHost: x\n\n',
      'GET / HTTP/1.1\r\nnot a header\r\n\r\n',
      'GET / HTTP/1.1\r\n: empty\r\n\r\n',
      'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
      '{"path":"/public"}\r\n',
      '\r\n\r\n',
    ]) {
      expect(parseHttpHead(ascii(text)), JSON.stringify(text)).toBeUndefined();
    }
  });

  it('gives no record for a TLS ClientHello or a DNS message', () => {
    const clientHello = Uint8Array.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03, 0x0d, 0x0a]);
    const dnsQuery = Uint8Array.from(Buffer.from('1a2b01000001000000000000037777770667', 'hex'));
    expect(parseHttpHead(clientHello)).toBeUndefined();
    expect(parseHttpHead(dnsQuery)).toBeUndefined();
  });

  it('never throws and never reads a head out of random bytes', () => {
    let seed = 0x9e3779b9;
    const random = () => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 2 ** 32;
    };
    for (let round = 0; round < 20_000; round++) {
      const bytes = Uint8Array.from({ length: Math.floor(random() * 300) }, () => Math.floor(random() * 256));
      expect(parseHttpHead(bytes)).toBeUndefined();
    }
  });
});
