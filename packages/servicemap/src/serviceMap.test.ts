import { describe, expect, it } from 'vitest';
import type { Flow } from '@tycho/flow';
import { linkKey } from './linkKey.ts';
import { ServiceMap } from './serviceMap.ts';
import { host, pod, tcpFlow, world } from './testFlows.ts';

const T0 = Date.parse('2024-01-01T00:00:00Z');
const podToA = pod('default', 'pod-to-a', 300);
const echoA = pod('default', 'echo-a', 301);
const kubeDns = {
  ...pod('kube-system', 'coredns', 400),
  labels: ['k8s:k8s-app=kube-dns', 'k8s:io.kubernetes.pod.namespace=kube-system'],
};
const A_TO_ECHO = linkKey('default/pod-to-a', 'TCP', 'default/echo-a', 8080);

function at(seconds: number): string {
  return new Date(T0 + seconds * 1000).toISOString();
}

function mapAt(nowMs: { value: number }, options: { linkIdleMs?: number } = {}): ServiceMap {
  return new ServiceMap({ now: () => nowMs.value, ...options });
}

describe('ServiceMap', () => {
  it('makes a card per workload and a link to the destination port', () => {
    const map = new ServiceMap({ now: () => T0 });
    map.add(tcpFlow({ from: podToA, to: echoA }));
    const { cards, links } = map.snapshot();
    expect(cards.map((c) => [c.id, c.kind, c.title, c.namespace])).toEqual([
      ['default/echo-a', 'workload', 'echo-a', 'default'],
      ['default/pod-to-a', 'workload', 'pod-to-a', 'default'],
    ]);
    expect(cards[0]?.ports).toEqual([{ port: 8080, protocol: 'TCP' }]);
    expect(cards[0]?.pods).toEqual(['echo-a-6d9c7f8b5-x2k9p']);
    expect(cards[0]?.identities).toEqual([301]);
    expect(links).toHaveLength(1);
    expect(links[0]).toMatchObject({ id: A_TO_ECHO, source: 'default/pod-to-a', destination: 'default/echo-a', port: 8080, protocol: 'TCP', flows: 1, verdicts: { FORWARDED: 1 } });
  });

  it('attaches the services traffic was addressed to to the card that served it, from requests and replies', () => {
    const map = new ServiceMap({ now: () => T0 });
    map.add(tcpFlow({ from: podToA, to: echoA }));
    expect(map.snapshot().cards.find((c) => c.id === 'default/echo-a')?.services).toBeUndefined();
    const before = map.version;
    map.add({ ...tcpFlow({ from: podToA, to: echoA }), destination_service: { name: 'echo-a', namespace: 'default' } });
    expect(map.version).toBeGreaterThan(before);
    const reply = tcpFlow({ from: echoA, to: podToA, fromIp: '10.244.1.20', toIp: '10.244.0.10', sport: 8080, dport: 40000, reply: true });
    map.add({ ...reply, source_service: { name: 'echo-a-alias', namespace: 'default' } });
    const cards = map.snapshot().cards;
    expect(cards.find((c) => c.id === 'default/echo-a')?.services).toEqual(['default/echo-a', 'default/echo-a-alias']);
    expect(cards.find((c) => c.id === 'default/pod-to-a')?.services).toBeUndefined();
    const same = map.version;
    map.add({ ...tcpFlow({ from: podToA, to: echoA }), destination_service: { name: 'echo-a', namespace: 'default' } });
    expect(map.snapshot().cards.find((c) => c.id === 'default/echo-a')?.services).toEqual(['default/echo-a', 'default/echo-a-alias']);
    expect(map.version).toBeGreaterThanOrEqual(same);
  });

  it('titles a card by its app label before the workload name', () => {
    const map = new ServiceMap({ now: () => T0 });
    map.add(tcpFlow({ from: pod('default', 'client', 300, ['k8s:app=shop']), to: echoA }));
    const card = map.snapshot().cards.find((c) => c.id === 'default/client');
    expect(card).toMatchObject({ title: 'shop', app: 'shop', subtitle: 'Deployment client' });
  });

  it('gives the kube-system kube-dns workload the kube-dns kind', () => {
    const map = new ServiceMap({ now: () => T0 });
    map.add({ ...tcpFlow({ from: podToA, to: kubeDns }), l4: { UDP: { source_port: 5353, destination_port: 53 } } });
    const card = map.snapshot().cards.find((c) => c.namespace === 'kube-system');
    expect(card).toMatchObject({ id: 'kube-system/coredns', kind: 'kube-dns', title: 'kube-dns', ports: [{ port: 53, protocol: 'UDP' }] });
  });

  it('names world cards by DNS name when the flow knows it, else one world card', () => {
    const map = new ServiceMap({ now: () => T0 });
    map.add(tcpFlow({ from: podToA, to: world, toIp: '192.0.2.10', dport: 443, destinationNames: ['www.google.com'] }));
    map.add(tcpFlow({ from: podToA, to: world, toIp: '192.0.2.11', dport: 80 }));
    const worldCards = map.snapshot().cards.filter((c) => c.kind === 'world');
    expect(worldCards.map((c) => [c.id, c.title, c.dnsNames])).toEqual([
      ['world', 'world', undefined],
      ['world:www.google.com', 'www.google.com', ['www.google.com']],
    ]);
  });

  it('makes one host card for the reserved host identity', () => {
    const map = new ServiceMap({ now: () => T0 });
    map.add(tcpFlow({ from: host, to: echoA, fromIp: '172.18.0.2' }));
    expect(map.snapshot().cards.find((c) => c.kind === 'host')).toMatchObject({ id: 'host', title: 'host' });
  });

  it('puts a reply on the link of its request', () => {
    const map = new ServiceMap({ now: () => T0 });
    map.add(tcpFlow({ from: podToA, to: echoA }));
    map.add(tcpFlow({ from: echoA, to: podToA, fromIp: '10.244.1.20', toIp: '10.244.0.10', sport: 8080, dport: 40000, reply: true, point: 'TO_ENDPOINT' }));
    const { links } = map.snapshot();
    expect(links.map((l) => l.id)).toEqual([A_TO_ECHO]);
    expect(links[0]?.flows).toBe(2);
  });

  it("counts a connection's flows at one observer only (not again where the packet arrives)", () => {
    const map = new ServiceMap({ now: () => T0 });
    map.add(tcpFlow({ from: podToA, to: echoA, node: 'node-1', ifindex: 10, point: 'FROM_ENDPOINT' }));
    map.add(tcpFlow({ from: podToA, to: echoA, node: 'node-2', ifindex: 20, point: 'TO_ENDPOINT' }));
    map.add(tcpFlow({ from: echoA, to: podToA, fromIp: '10.244.1.20', toIp: '10.244.0.10', sport: 8080, dport: 40000, reply: true, node: 'node-2', ifindex: 20, point: 'FROM_ENDPOINT' }));
    map.add(tcpFlow({ from: echoA, to: podToA, fromIp: '10.244.1.20', toIp: '10.244.0.10', sport: 8080, dport: 40000, reply: true, node: 'node-1', ifindex: 10, point: 'TO_ENDPOINT' }));
    expect(map.snapshot().links[0]).toMatchObject({ flows: 2, verdicts: { FORWARDED: 2 } });
  });

  it('counts a drop seen at the second observer, making the link mixed', () => {
    const map = new ServiceMap({ now: () => T0 });
    map.add(tcpFlow({ from: podToA, to: echoA, node: 'node-1', ifindex: 10 }));
    map.add(tcpFlow({ from: podToA, to: echoA, node: 'node-2', ifindex: 20, point: 'TO_ENDPOINT', verdict: 'DROPPED', dropReason: 'POLICY_DENIED' }));
    expect(map.snapshot().links[0]).toMatchObject({ flows: 2, verdicts: { FORWARDED: 1, DROPPED: 1 }, dropReasons: { POLICY_DENIED: 1 } });
  });

  it('names on the link the policies that denied or allowed its flows, with counts', () => {
    const map = new ServiceMap({ now: () => T0 });
    const denied = { name: 'pod-to-a-l3-denied-cnp', namespace: 'default', kind: 'CiliumNetworkPolicy' };
    map.add({ ...tcpFlow({ from: podToA, to: echoA, verdict: 'DROPPED', dropReason: 'POLICY_DENIED' }), egress_denied_by: [denied] });
    map.add({ ...tcpFlow({ from: podToA, to: echoA, sport: 40001, verdict: 'DROPPED', dropReason: 'POLICY_DENIED' }), egress_denied_by: [denied] });
    expect(map.snapshot().links[0]).toMatchObject({
      dropReasons: { POLICY_DENIED: 2 },
      policies: [{ ...denied, effect: 'denied', direction: 'egress', flows: 2 }],
    });
  });

  it('takes ingress policies from the observation where the packet arrives, without counting the flow twice', () => {
    const map = new ServiceMap({ now: () => T0 });
    const allowed = { name: 'echo-a-ingress', namespace: 'default', kind: 'NetworkPolicy' };
    map.add(tcpFlow({ from: podToA, to: echoA, node: 'node-1', ifindex: 10 }));
    map.add({ ...tcpFlow({ from: podToA, to: echoA, node: 'node-2', ifindex: 20, point: 'TO_ENDPOINT' }), ingress_allowed_by: [allowed] });
    expect(map.snapshot().links[0]).toMatchObject({ flows: 1, policies: [{ ...allowed, effect: 'allowed', direction: 'ingress', flows: 1 }] });
  });

  it('has no policies on a link whose flows name none', () => {
    const map = new ServiceMap({ now: () => T0 });
    map.add(tcpFlow({ from: podToA, to: echoA }));
    expect(map.snapshot().links[0]?.policies).toBeUndefined();
  });

  it('counts each connection separately', () => {
    const map = new ServiceMap({ now: () => T0 });
    map.add(tcpFlow({ from: podToA, to: echoA, sport: 40000 }));
    map.add(tcpFlow({ from: podToA, to: echoA, sport: 40001, node: 'node-2', ifindex: 20, point: 'TO_ENDPOINT' }));
    expect(map.snapshot().links[0]?.flows).toBe(2);
  });

  it('adds traffic deltas of one observation point per connection', () => {
    const map = new ServiceMap({ now: () => T0 });
    const traffic = (bytesFwd: number, bytesRev: number) => ({ packets_fwd: 1, bytes_fwd: bytesFwd, packets_rev: 1, bytes_rev: bytesRev });
    map.add(tcpFlow({ from: podToA, to: echoA, traffic: traffic(100, 0) }));
    map.add(tcpFlow({ from: podToA, to: echoA, node: 'node-2', ifindex: 20, point: 'TO_ENDPOINT', traffic: traffic(100, 0) }));
    map.add(tcpFlow({ from: podToA, to: echoA, traffic: traffic(300, 5000) }));
    map.add(tcpFlow({ from: podToA, to: echoA, sport: 40001, traffic: traffic(50, 70) }));
    expect(map.snapshot().links[0]).toMatchObject({ bytesFwd: 350, bytesRev: 5070 });
  });

  it('leaves bytes at zero when flows carry no traffic counters', () => {
    const map = new ServiceMap({ now: () => T0 });
    map.add(tcpFlow({ from: podToA, to: echoA }));
    expect(map.snapshot().links[0]).toMatchObject({ bytesFwd: 0, bytesRev: 0 });
  });

  it('keeps first and last seen', () => {
    const map = new ServiceMap({ now: () => T0 + 60_000 });
    map.add(tcpFlow({ from: podToA, to: echoA, time: at(10) }));
    map.add(tcpFlow({ from: podToA, to: echoA, time: at(5) }));
    map.add(tcpFlow({ from: podToA, to: echoA, time: at(20) }));
    expect(map.snapshot().links[0]).toMatchObject({ firstSeen: at(5), lastSeen: at(20) });
  });

  it('reports flows per second over the last minute', () => {
    const now = { value: T0 + 59_000 };
    const map = mapAt(now);
    for (let second = 0; second < 30; second++) map.add(tcpFlow({ from: podToA, to: echoA, sport: 40000 + second, time: at(second) }));
    expect(map.snapshot().links[0]?.flowsPerSecond).toBe(0.5);
    now.value = T0 + 200_000;
    expect(map.snapshot().links[0]?.flowsPerSecond).toBe(0);
  });

  it('counts L7 events only as the protocol of the destination port', () => {
    const map = new ServiceMap({ now: () => T0 });
    map.add(tcpFlow({ from: podToA, to: echoA }));
    map.add({ ...tcpFlow({ from: podToA, to: echoA }), Type: 'L7', l7: { type: 'REQUEST', http: { method: 'GET', url: '/' } } });
    const { cards, links } = map.snapshot();
    expect(links[0]?.flows).toBe(1);
    expect(cards.find((c) => c.id === 'default/echo-a')?.ports).toEqual([{ port: 8080, protocol: 'TCP', l7: 'http' }]);
  });

  describe('traffic with the pod\'s own link (Neighbor Discovery, MLD, mDNS, DHCP)', () => {
    const podLinkLocal = 'fe80::a8c1:abff:fe12:3456';
    /** An ICMPv6 packet from podToA's veth, with the endpoints the agent gives it. */
    function icmpv6(type: number, source: string, destination: string, peer: Flow['destination']): Flow {
      return { ...tcpFlow({ from: podToA, to: peer ?? world }), IP: { source, destination, ipVersion: 'IPv6' }, l4: { ICMPv6: { type, code: 0 } }, Summary: `ICMPv6 ${type}` };
    }
    const noIdentity = { identity: 0, labels: [] };

    it('draws no world card and no unknown card for neighbor solicitations and MLD reports from a pod', () => {
      const map = new ServiceMap({ now: () => T0 });
      map.add(tcpFlow({ from: podToA, to: echoA }));
      map.add(icmpv6(135, podLinkLocal, 'ff02::1:ff00:1', noIdentity));
      map.add(icmpv6(135, '::', 'ff02::1:ff12:3456', noIdentity));
      map.add(icmpv6(143, podLinkLocal, 'ff02::16', noIdentity));
      map.add(icmpv6(136, 'fe80::1', podLinkLocal, noIdentity));
      // As agents reported them before: a source without its pod, a world peer.
      map.add({ ...icmpv6(135, podLinkLocal, 'ff02::1:ff00:1', world), source: { identity: 300, labels: podToA.labels } });
      const { cards, links } = map.snapshot();
      expect(cards.map((c) => [c.id, c.kind])).toEqual([['default/echo-a', 'workload'], ['default/pod-to-a', 'workload']]);
      expect(links.map((l) => l.id)).toEqual([A_TO_ECHO]);
    });

    it('leaves out IPv4 link-local, multicast and broadcast peers the same way', () => {
      const map = new ServiceMap({ now: () => T0 });
      const udp = (source: string, destination: string, sport: number, dport: number): Flow => ({
        ...tcpFlow({ from: podToA, to: noIdentity, fromIp: source, toIp: destination }),
        l4: { UDP: { source_port: sport, destination_port: dport } },
      });
      map.add(udp('10.244.0.10', '224.0.0.251', 5353, 5353));
      map.add(udp('0.0.0.0', '255.255.255.255', 68, 67));
      map.add(tcpFlow({ from: podToA, to: noIdentity, toIp: '169.254.1.1', dport: 80 }));
      expect(map.snapshot()).toMatchObject({ cards: [], links: [] });
    });
  });

  it('selects a namespace: its cards, links touching it and their peers', () => {
    const map = new ServiceMap({ now: () => T0 });
    map.add({ ...tcpFlow({ from: podToA, to: kubeDns }), l4: { UDP: { source_port: 5353, destination_port: 53 } } });
    map.add(tcpFlow({ from: pod('other', 'client', 500), to: pod('other', 'server', 501), fromIp: '10.244.0.50', toIp: '10.244.0.51' }));
    const snapshot = map.snapshot({ namespace: 'default' });
    expect(snapshot.cards.map((c) => c.id)).toEqual(['default/pod-to-a', 'kube-system/coredns']);
    expect(snapshot.links).toHaveLength(1);
    expect(map.snapshot({ namespace: 'all' }).cards).toHaveLength(4);
  });

  it('reports changes since a version, and nothing when nothing changed', () => {
    const map = new ServiceMap({ now: () => T0 });
    map.add(tcpFlow({ from: podToA, to: echoA }));
    const first = map.changesSince(0);
    expect(first.cards).toHaveLength(2);
    expect(first.links).toHaveLength(1);
    expect(map.changesSince(first.version)).toEqual({ version: first.version, cards: [], links: [], removedCards: [], removedLinks: [] });
    map.add(tcpFlow({ from: podToA, to: echoA, sport: 40001 }));
    const second = map.changesSince(first.version);
    expect(second.cards).toEqual([]);
    expect(second.links.map((l) => [l.id, l.flows])).toEqual([[A_TO_ECHO, 2]]);
  });

  it('sends the peer card along with a new link that brings it into a namespace', () => {
    const map = new ServiceMap({ now: () => T0 });
    map.add(tcpFlow({ from: pod('other', 'client', 500), to: kubeDns, fromIp: '10.244.0.50', toIp: '10.244.0.53', dport: 53 }));
    const version = map.version;
    map.add(tcpFlow({ from: podToA, to: kubeDns, toIp: '10.244.0.53', dport: 53 }));
    const changes = map.changesSince(version, { namespace: 'default' });
    expect(changes.cards.map((c) => c.id)).toEqual(['default/pod-to-a', 'kube-system/coredns']);
    expect(changes.links.map((l) => l.source)).toEqual(['default/pod-to-a']);
  });

  it('expires idle links and the cards they leave alone, and reports the removals', () => {
    const now = { value: T0 };
    const map = mapAt(now, { linkIdleMs: 60_000 });
    map.add(tcpFlow({ from: podToA, to: echoA, time: at(0) }));
    map.add(tcpFlow({ from: podToA, to: world, toIp: '192.0.2.1', dport: 443, time: at(50) }));
    const version = map.version;
    now.value = T0 + 90_000;
    map.tick();
    const changes = map.changesSince(version);
    expect(changes.removedLinks).toEqual([A_TO_ECHO]);
    expect(changes.removedCards).toEqual(['default/echo-a']);
    expect(map.snapshot().cards.map((c) => c.id)).toEqual(['default/pod-to-a', 'world']);
  });

  it('re-stamps a link when its rate decays so subscribers see it fall', () => {
    const now = { value: T0 };
    const map = mapAt(now);
    map.add(tcpFlow({ from: podToA, to: echoA, time: at(0) }));
    const version = map.version;
    now.value = T0 + 61_000;
    map.tick();
    expect(map.changesSince(version).links.map((l) => l.flowsPerSecond)).toEqual([0]);
  });

  it('skips flows without a transport header', () => {
    const map = new ServiceMap({ now: () => T0 });
    const { l4: _dropped, ...flow } = tcpFlow({ from: podToA, to: echoA });
    map.add(flow);
    expect(map.size).toEqual({ cards: 0, links: 0 });
  });
});

describe('ServiceMap with endpoints seen before', () => {
  it('still merges what changed about a pod into its card (a new label, a new identity)', () => {
    const map = new ServiceMap({ now: () => T0 });
    map.add(tcpFlow({ from: podToA, to: echoA }));
    const version = map.version;
    map.add(tcpFlow({ from: podToA, to: { ...echoA, identity: 302, labels: [...(echoA.labels ?? []), 'k8s:tier=web'] } }));
    const changed = map.changesSince(version).cards.find((c) => c.id === 'default/echo-a');
    expect(changed?.identities).toEqual([301, 302]);
    expect(changed?.labels).toContain('k8s:tier=web');
  });

  it('makes the card again, with its pods and labels, when a pod comes back after its card expired', () => {
    const now = { value: T0 };
    const map = mapAt(now, { linkIdleMs: 60_000 });
    map.add(tcpFlow({ from: podToA, to: echoA, time: at(0) }));
    now.value = T0 + 90_000;
    map.tick();
    expect(map.size).toEqual({ cards: 0, links: 0 });
    map.add(tcpFlow({ from: podToA, to: echoA, time: at(90) }));
    const echo = map.snapshot().cards.find((c) => c.id === 'default/echo-a');
    expect(echo).toMatchObject({ pods: ['echo-a-6d9c7f8b5-x2k9p'], identities: [301], labels: echoA.labels?.slice().sort() });
  });
});

/** An endpoint as the relay shares it: one frozen object for every flow of that endpoint. */
function frozen<T extends object>(value: T): T {
  for (const inner of Object.values(value)) if (typeof inner === 'object' && inner !== null) frozen(inner);
  return Object.freeze(value);
}

describe('ServiceMap with links and connections cached per endpoint pair', () => {
  const sharedA = frozen(pod('default', 'pod-to-a', 300));
  const sharedEcho = frozen(pod('default', 'echo-a', 301));

  it('aggregates shared frozen endpoints exactly as fresh copies of them', () => {
    const flows = (from: typeof podToA, to: typeof echoA) => [
      tcpFlow({ from, to, sport: 40000, time: at(0) }),
      tcpFlow({ from, to, sport: 40001, time: at(1), node: 'node-2' }),
      tcpFlow({ from, to, sport: 40000, time: at(2), node: 'node-2', ifindex: 20, point: 'TO_ENDPOINT' }),
      tcpFlow({ from: to, to: from, sport: 8080, dport: 40000, fromIp: '10.244.1.20', toIp: '10.244.0.10', reply: true, time: at(3) }),
      tcpFlow({ from, to, sport: 40002, dport: 9090, time: at(4), verdict: 'DROPPED', dropReason: 'POLICY_DENIED' }),
      tcpFlow({ from, to, sport: 40000, time: at(5), traffic: { packets_fwd: 2, bytes_fwd: 120, packets_rev: 1, bytes_rev: 60 } }),
    ];
    const shared = new ServiceMap({ now: () => T0 + 5000 });
    const copied = new ServiceMap({ now: () => T0 + 5000 });
    for (const flow of flows(sharedA, sharedEcho)) shared.add(flow);
    for (const flow of flows(sharedA, sharedEcho)) copied.add(structuredClone(flow));
    expect(shared.snapshot()).toEqual(copied.snapshot());
    expect(shared.snapshot().links.map((l) => [l.id, l.flows])).toEqual([
      [A_TO_ECHO, 4],
      [linkKey('default/pod-to-a', 'TCP', 'default/echo-a', 9090), 1],
    ]);
  });

  it('makes a new link for a shared endpoint pair after tick removed its link', () => {
    const now = { value: T0 };
    const map = mapAt(now, { linkIdleMs: 60_000 });
    map.add(tcpFlow({ from: sharedA, to: sharedEcho, time: at(0) }));
    now.value = T0 + 90_000;
    map.tick();
    const version = map.version;
    map.add(tcpFlow({ from: sharedA, to: sharedEcho, sport: 40001, time: at(90) }));
    const changes = map.changesSince(version);
    expect(changes.links.map((l) => [l.id, l.flows, l.firstSeen])).toEqual([[A_TO_ECHO, 1, at(90)]]);
    expect(changes.cards.map((c) => c.id)).toEqual(['default/echo-a', 'default/pod-to-a']);
    expect(map.size).toEqual({ cards: 2, links: 1 });
  });

  it('puts the flows of a changed endpoint (a new shared object) on the link of its new card', () => {
    const map = new ServiceMap({ now: () => T0 });
    map.add(tcpFlow({ from: sharedA, to: sharedEcho }));
    const moved = frozen({ ...pod('default', 'echo-a', 301), workloads: [{ name: 'echo-v2', kind: 'Deployment' }] });
    map.add(tcpFlow({ from: sharedA, to: moved, sport: 40001 }));
    map.add(tcpFlow({ from: sharedA, to: sharedEcho, sport: 40002 }));
    expect(map.snapshot().links.map((l) => [l.id, l.flows])).toEqual([
      [A_TO_ECHO, 2],
      [linkKey('default/pod-to-a', 'TCP', 'default/echo-v2', 8080), 1],
    ]);
  });

  it('counts a connection forgotten by tick again at the observer of its next flow', () => {
    const now = { value: T0 };
    const map = new ServiceMap({ now: () => now.value, connectionIdleMs: 10_000 });
    map.add(tcpFlow({ from: sharedA, to: sharedEcho, time: at(0) }));
    map.add(tcpFlow({ from: sharedA, to: sharedEcho, time: at(1), node: 'node-2' }));
    expect(map.snapshot().links[0]?.flows).toBe(1);
    now.value = T0 + 30_000;
    map.tick();
    map.add(tcpFlow({ from: sharedA, to: sharedEcho, time: at(30), node: 'node-2' }));
    map.add(tcpFlow({ from: sharedA, to: sharedEcho, time: at(31) }));
    expect(map.snapshot().links[0]?.flows).toBe(2);
  });

  it('tells connections of one link with the same client port apart by address', () => {
    const map = new ServiceMap({ now: () => T0 });
    map.add(tcpFlow({ from: sharedA, to: sharedEcho, fromIp: '10.244.0.10' }));
    // Other connections, first seen at another node: each counts there.
    map.add(tcpFlow({ from: sharedA, to: sharedEcho, fromIp: '10.244.0.11', node: 'node-2' }));
    map.add(tcpFlow({ from: sharedA, to: sharedEcho, toIp: '10.244.1.21', node: 'node-2' }));
    // The first connection again, seen where it arrives: not counted twice.
    map.add(tcpFlow({ from: sharedA, to: sharedEcho, fromIp: '10.244.0.10', node: 'node-2' }));
    expect(map.snapshot().links[0]?.flows).toBe(3);
  });
});

describe('ServiceMap and policy verdicts', () => {
  it('does not count a policy-verdict flow as traffic: its connection counts once, by its trace flow', () => {
    const map = new ServiceMap({ now: () => T0 });
    const trace = tcpFlow({ from: podToA, to: echoA });
    map.add({ ...trace, event_type: { type: 5, sub_type: 2 }, trace_observation_point: undefined, traffic_direction: 'EGRESS', policy_match_type: 2 });
    expect(map.size).toEqual({ cards: 0, links: 0 });
    map.add(trace);
    expect(map.snapshot().links[0]).toMatchObject({ id: A_TO_ECHO, flows: 1, verdicts: { FORWARDED: 1 } });
  });
});
