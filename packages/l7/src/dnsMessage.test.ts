import { describe, expect, it } from 'vitest';
import { dnsRcodeDescription, dnsTypeName, parseDnsMessage, parseDnsOverTcp } from './dnsMessage.ts';

/** Bytes from hex, whitespace ignored; fixtures read like a packet dump. */
function hex(text: string): Uint8Array {
  return Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
}

// Query for www.google.com A, id 0x1a2b, RD set, as dig sends it (without EDNS).
const QUERY_A = hex(`
  1a2b 0100 0001 0000 0000 0000
  03 777777 06 676f6f676c65 03 636f6d 00  0001 0001
`);

// Its response: www.google.com CNAME www.l.google.com (TTL 300), www.l.google.com A
// 198.51.100.14 (TTL 30), 198.51.100.15 (TTL 60); names compressed the way servers do.
const RESPONSE_A = hex(`
  1a2b 8180 0001 0003 0000 0000
  03 777777 06 676f6f676c65 03 636f6d 00  0001 0001
  c00c 0005 0001 0000012c 0008  03 777777 01 6c c010
  c02c 0001 0001 0000001e 0004  c633640e
  c02c 0001 0001 0000003c 0004  c633640f
`);

// NXDOMAIN for nosuch.example.com AAAA, with the SOA in the authority section.
const NXDOMAIN = hex(`
  beef 8183 0001 0000 0001 0000
  06 6e6f73756368 07 6578616d706c65 03 636f6d 00  001c 0001
  c013 0006 0001 00000e10 0018  c013 c013 78a1b2c3 00001c20 00000e10 00093a80 00000e10
`);

// AAAA answer for one.one.one.one: 2606:4700:4700::1111, with an EDNS OPT record.
const RESPONSE_AAAA = hex(`
  0042 8180 0001 0001 0000 0001
  03 6f6e65 03 6f6e65 03 6f6e65 03 6f6e65 00  001c 0001
  c00c 001c 0001 00000096 0010  26064700470000000000000000001111
  00 0029 04d0 00000000 0000
`);

describe('parseDnsMessage', () => {
  it('reads a query: id, question name with the trailing dot, type and class', () => {
    expect(parseDnsMessage(QUERY_A)).toEqual({
      id: 0x1a2b, isResponse: false, rcode: 0, partial: false,
      questions: [{ name: 'www.google.com.', type: 1, class: 1 }],
      answers: [],
    });
  });

  it('follows compression pointers through a CNAME chain to the A records', () => {
    const message = parseDnsMessage(RESPONSE_A);
    expect(message?.isResponse).toBe(true);
    expect(message?.answers).toEqual([
      { name: 'www.google.com.', type: 5, ttl: 300, cname: 'www.l.google.com.' },
      { name: 'www.l.google.com.', type: 1, ttl: 30, ip: '198.51.100.14' },
      { name: 'www.l.google.com.', type: 1, ttl: 60, ip: '198.51.100.15' },
    ]);
  });

  it('reports NXDOMAIN with no answers, skipping the authority section', () => {
    expect(parseDnsMessage(NXDOMAIN)).toMatchObject({
      id: 0xbeef, rcode: 3, answers: [], questions: [{ name: 'nosuch.example.com.', type: 28 }],
    });
  });

  it('reads AAAA answers in RFC 5952 form and skips the EDNS record', () => {
    expect(parseDnsMessage(RESPONSE_AAAA)?.answers).toEqual([
      { name: 'one.one.one.one.', type: 28, ttl: 150, ip: '2606:4700:4700::1111' },
    ]);
  });

  it('refuses a compression pointer that points at itself or forwards', () => {
    const selfLoop = hex('0001 8180 0001 0000 0000 0000  c00c 0001 0001');
    const forward = hex('0001 8180 0001 0000 0000 0000  c012 0001 0001 03 777777 00');
    expect(parseDnsMessage(selfLoop)).toBeUndefined();
    expect(parseDnsMessage(forward)).toBeUndefined();
  });

  it('refuses a pointer loop hidden behind a backward jump', () => {
    // The question's name is fine; the answer's owner jumps back into a pointer that jumps forward again.
    const loop = hex('0001 8180 0001 0001 0000 0000  01 61 c00e 0001 0001  c00c 0001 0001 0000001e 0004 01020304');
    expect(parseDnsMessage(loop)).toBeUndefined();
  });

  it('refuses bytes after the last record unless told they may be cut', () => {
    expect(parseDnsMessage(new Uint8Array([...QUERY_A, 0]))).toBeUndefined();
  });

  it('gives no record for any prefix of a message', () => {
    for (const message of [QUERY_A, RESPONSE_A, NXDOMAIN, RESPONSE_AAAA]) {
      for (let length = 0; length < message.length; length++) {
        expect(parseDnsMessage(message.subarray(0, length)), `prefix of ${length} bytes`).toBeUndefined();
      }
    }
  });

  it('keeps the whole answers of a message cut by the payload limit, and marks it partial', () => {
    for (let length = 0; length < RESPONSE_A.length; length++) {
      const message = parseDnsMessage(RESPONSE_A.subarray(0, length), { mayBeTruncated: true });
      if (length < 32) {
        expect(message, `prefix of ${length} bytes`).toBeUndefined();
        continue;
      }
      expect(message?.partial).toBe(true);
      const complete = parseDnsMessage(RESPONSE_A)!.answers;
      expect(complete.slice(0, message!.answers.length)).toEqual(message!.answers);
    }
  });

  it('never throws and never reads a record out of random bytes', () => {
    let seed = 0x2545f491;
    const random = () => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 2 ** 32;
    };
    for (let round = 0; round < 20_000; round++) {
      const bytes = Uint8Array.from({ length: Math.floor(random() * 300) }, () => Math.floor(random() * 256));
      expect(() => parseDnsMessage(bytes)).not.toThrow();
      expect(parseDnsMessage(bytes)).toBeUndefined();
      expect(parseDnsOverTcp(bytes)).toBeUndefined();
    }
  });

  it('gives no record for an HTTP request sent to port 53', () => {
    expect(parseDnsMessage(new TextEncoder().encode('GET / HTTP/1.1\r\nHost: x\r\n\r\n'))).toBeUndefined();
  });
});

describe('parseDnsOverTcp', () => {
  const framed = (message: Uint8Array) => new Uint8Array([message.length >> 8, message.length & 0xff, ...message]);

  it('reads a message after its 2-byte length prefix', () => {
    expect(parseDnsOverTcp(framed(RESPONSE_A))?.answers).toHaveLength(3);
  });

  it('refuses a prefix that does not match the bytes, or a cut message unless allowed', () => {
    const whole = framed(RESPONSE_A);
    expect(parseDnsOverTcp(new Uint8Array([0, 5, ...RESPONSE_A]))).toBeUndefined();
    expect(parseDnsOverTcp(whole.subarray(0, 60))).toBeUndefined();
    expect(parseDnsOverTcp(whole.subarray(0, 60), { mayBeTruncated: true })?.partial).toBe(true);
  });
});

describe('names', () => {
  it('names record types and response codes as Hubble prints them', () => {
    expect([1, 5, 28, 33, 999].map(dnsTypeName)).toEqual(['A', 'CNAME', 'AAAA', 'SRV', 'TYPE999']);
    expect(dnsRcodeDescription(3)).toBe('Non-Existent Domain');
    expect(dnsRcodeDescription(2)).toBe('Server Failure');
  });
});
