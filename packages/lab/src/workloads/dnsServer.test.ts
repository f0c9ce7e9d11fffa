import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Resolver } from 'node:dns/promises';
import { connect } from 'node:net';
import dnsPacket from 'dns-packet';
import { startDnsServer, type DnsServer } from './dnsServer.ts';

const records = { a: { 'echo-a.default.svc.cluster.local': ['10.244.0.7'], 'one.one.one.one': ['192.0.2.11'] } };

describe('startDnsServer', () => {
  let server: DnsServer;
  let resolver: Resolver;
  beforeAll(async () => {
    server = await startDnsServer({ host: '127.0.0.1', port: 0, records: () => records });
    resolver = new Resolver({ timeout: 1000, tries: 1 });
    resolver.setServers([`127.0.0.1:${server.udpPort}`]);
  });
  afterAll(() => server.close());

  it('answers an A query over UDP', async () => {
    expect(await resolver.resolve4('echo-a.default.svc.cluster.local')).toEqual(['10.244.0.7']);
  });

  it('answers NXDOMAIN for names outside the zone', async () => {
    await expect(resolver.resolve4('nothing.example')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('answers an AAAA query for a known name with no records', async () => {
    await expect(resolver.resolve6('one.one.one.one')).rejects.toMatchObject({ code: 'ENODATA' });
  });

  it('answers an A query over TCP', async () => {
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const socket = connect(server.tcpPort, '127.0.0.1', () => {
        socket.write(dnsPacket.streamEncode({ type: 'query', id: 7, questions: [{ type: 'A', name: 'one.one.one.one' }] }));
      });
      let data = Buffer.alloc(0);
      socket.on('data', (chunk) => {
        data = Buffer.concat([data, chunk]);
        if (data.length >= 2 && data.length >= 2 + data.readUInt16BE(0)) {
          socket.end();
          resolve(data);
        }
      });
      socket.on('error', reject);
    });
    const packet = dnsPacket.streamDecode(reply);
    expect(packet.id).toBe(7);
    expect(packet.answers).toMatchObject([{ type: 'A', data: '192.0.2.11' }]);
  });
});
