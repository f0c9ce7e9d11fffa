import { createSocket, type Socket } from 'node:dgram';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import dnsPacket, { type Answer, type Packet } from 'dns-packet';
import { lookupA, type DnsRecords } from '../dnsRecords.ts';

/** Seconds clients may cache answers: short, so readiness changes show quickly. */
const TTL_SECONDS = 5;

const RCODE_NXDOMAIN = 3;
const RCODE_FORMERR = 1;

/** Answers one DNS query from the zone (A only; other types get an empty answer for known names). */
export function answerQuery(records: DnsRecords, query: Packet): Packet {
  const question = query.questions?.[0];
  const base = {
    type: 'response' as const,
    id: query.id ?? 0,
    questions: query.questions ?? [],
  };
  const rd = (query.flags ?? 0) & dnsPacket.RECURSION_DESIRED;
  if (!question) return { ...base, flags: rd | RCODE_FORMERR };
  const found = lookupA(records, question.name);
  if (found.rcode === 'NXDOMAIN') {
    return { ...base, flags: dnsPacket.AUTHORITATIVE_ANSWER | rd | RCODE_NXDOMAIN, answers: [] };
  }
  const answers: Answer[] =
    question.type === 'A'
      ? found.ips.map((ip) => ({ type: 'A', name: question.name, class: 'IN', ttl: TTL_SECONDS, data: ip }))
      : [];
  return { ...base, flags: dnsPacket.AUTHORITATIVE_ANSWER | rd, answers };
}

function respond(records: DnsRecords, message: Buffer): Buffer | undefined {
  let query: Packet;
  try {
    query = dnsPacket.decode(message);
  } catch {
    return undefined; // not DNS: drop, as servers do
  }
  if (query.type !== 'query') return undefined;
  return dnsPacket.encode(answerQuery(records, query));
}

export interface DnsServer {
  readonly udpPort: number;
  readonly tcpPort: number;
  close(): Promise<void>;
}

/**
 * The lab's cluster DNS (run for the coredns image): UDP and TCP on `port`
 * (0 picks free ports, for tests), answering from `records()` at query time.
 */
export async function startDnsServer(opts: { host: string; port: number; records: () => DnsRecords }): Promise<DnsServer> {
  const udp: Socket = createSocket('udp4');
  udp.on('message', (msg, rinfo) => {
    const reply = respond(opts.records(), msg);
    if (reply) udp.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(opts.port, opts.host, () => resolve());
  });

  const tcp: Server = createServer((conn) => {
    let buffered = Buffer.alloc(0);
    conn.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2) {
        const length = buffered.readUInt16BE(0);
        if (buffered.length < 2 + length) break;
        const reply = respond(opts.records(), buffered.subarray(2, 2 + length));
        buffered = buffered.subarray(2 + length);
        if (!reply) return void conn.destroy();
        const framed = Buffer.alloc(2 + reply.length);
        framed.writeUInt16BE(reply.length, 0);
        reply.copy(framed, 2);
        conn.write(framed);
      }
    });
    conn.on('error', () => conn.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(opts.port, opts.host, () => resolve());
  });

  return {
    udpPort: udp.address().port,
    tcpPort: (tcp.address() as AddressInfo).port,
    close: async () => {
      udp.close();
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    },
  };
}

/**
 * Keeps the zone the supervisor writes to `file` (JSON DnsRecords) current:
 * reads it now and again whenever it changes (the supervisor replaces it atomically).
 */
export function followRecordsFile(file: string): { records: () => DnsRecords; stop: () => void } {
  let current: DnsRecords = { a: {} };
  const load = () => {
    try {
      current = JSON.parse(readFileSync(file, 'utf8')) as DnsRecords;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') console.error(`dns: cannot read ${file}: ${(err as Error).message}`);
    }
  };
  load();
  watchFile(file, { interval: 500 }, load);
  return { records: () => current, stop: () => unwatchFile(file, load) };
}
