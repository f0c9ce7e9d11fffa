// Service load-balancing against kube-proxy's iptables design (issue 6):
// connection setup to a ClusterIP with 100, 1,000 and 10,000 services
// programmed, through (a) the socket load-balancer (bpf_sock.o on a cgroup
// holding the client), (b) kube-proxy-style nat chains (KUBE-SERVICES →
// KUBE-SVC-… → KUBE-SEP-…, loaded with iptables-restore) in the client's
// namespace, and (c) the backend's pod IP directly (the baseline). The same
// C client (bench/connectProbe.c, built at run time) does sequential
// connect()+close() and times every connect(); the same server answers all
// three. Two controls run in the same sets: the pod IP from inside the
// cgroup (the programs run and miss) and from an empty sibling cgroup.
// Rounds are interleaved per set, in a rotating order. Then the time to
// program 10,000 services: model → maps → ServiceDatapath.apply against
// generating the rules and iptables-restore, in interleaved pairs.
//
//   tycho-bench-svc-sock  (client; cgroup with bpf_sock.o for variant a; no route to ClusterIPs)
//        eth0 10.250.2.1 ── sock0 10.250.2.2, .3 ┐
//                                                 tycho-bench-svc-server (connectProbe server on :8080)
//        eth0 10.250.1.1 ── ipt0  10.250.1.2, .3 ┘
//   tycho-bench-svc-ipt   (client; the kube-proxy nat rules, default route via the server)
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import { buildServiceModel, compileServiceMaps, endpointSlicesFromPods, diffServiceMaps, ipv4ToNumber, numberToIpv4, serviceMapOps, type ServiceMapEntries, type ServiceModelInput } from '@tycho/services';
import { ServiceDatapath } from '../packages/datapath/src/serviceDatapath.ts';
import { check, measurement, pairedRatio, type Benchmark, type BenchmarkContext, type Measurement, type Variant } from './benchmark.ts';
import { inNetns, ip, mustRun, NETNS_DIR, runCommand } from './systemCommand.ts';

const PROBE_SOURCE = fileURLToPath(new URL('./connectProbe.c', import.meta.url));
const NS = { server: 'tycho-bench-svc-server', sock: 'tycho-bench-svc-sock', ipt: 'tycho-bench-svc-ipt' } as const;
const SOCK_BACKENDS = ['10.250.2.2', '10.250.2.3'] as const;
const IPT_BACKENDS = ['10.250.1.2', '10.250.1.3'] as const;
const BACKEND_PORT = 8080;
const SERVICE_PORT = 80;
const FIRST_CLUSTER_IP = ipv4ToNumber('10.96.0.10');
/** Clients in 10.250.0.0/16 count as pods, so kube-proxy's rules mark nothing for masquerade (pod → service). */
const CLUSTER_CIDR = '10.250.0.0/16';
const NODE = 'bench-node';
/** Client and server share one CPU and run ahead of ordinary tasks, as in tcpRr. */
const CPU = '1';
const NICE = '-15';

const envInt = (name: string, fallback: number): number => {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got '${text}'`);
  return value;
};
/** Sizes, sets and connections can be made smaller for a dry run (TYCHO_BENCH_SVC_SIZES=10,20 …); the documented run uses the defaults. */
const SIZES = (process.env.TYCHO_BENCH_SVC_SIZES ?? '100,1000,10000').split(',').map((s) => {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1 || n > 20_000) throw new Error(`TYCHO_BENCH_SVC_SIZES: '${s}' is not a service count in 1..20000`);
  return n;
});
const ROUND_SETS = envInt('TYCHO_BENCH_SVC_SETS', 10);
const CONNECTIONS_PER_ROUND = envInt('TYCHO_BENCH_SVC_CONNECTIONS', 5000);
const PROGRAM_PAIRS = envInt('TYCHO_BENCH_SVC_PROGRAM_PAIRS', 5);
const GOAL_VS_DIRECT = 1.05;
const GOAL_VS_IPTABLES = 2;

/** 'direct in cgroup': the pod IP from inside the cgroup, so the programs run and find no service (the hook's cost alone). */
/** 'direct in empty cgroup': the pod IP from a sibling cgroup with no programs (what moving the client costs, a control). */
type Path = 'direct' | 'socket-LB' | 'iptables' | 'direct in cgroup' | 'direct in empty cgroup';
const PATHS: readonly Path[] = ['direct', 'socket-LB', 'iptables', 'direct in cgroup', 'direct in empty cgroup'];

interface ProbeRound {
  connections: number;
  failed: number;
  firstError: string;
  p50Ns: number;
  p99Ns: number;
  meanNs: number;
  perSecond: number;
  peer: string;
}

const clusterIp = (i: number): string => numberToIpv4(FIRST_CLUSTER_IP + i);
const serviceName = (i: number): string => `svc-${i}`;

/** The Kubernetes objects of `count` ClusterIP services, each with the EndpointSlice of the two backend pods its selector picks. */
function kubeObjects(count: number): ServiceModelInput {
  const services: V1Service[] = Array.from({ length: count }, (_, i) => ({
    metadata: { name: serviceName(i), namespace: 'bench' },
    spec: { clusterIP: clusterIp(i), selector: { app: 'bench' }, ports: [{ name: 'http', port: SERVICE_PORT, targetPort: BACKEND_PORT }] },
  }));
  const pods: V1Pod[] = SOCK_BACKENDS.map((address, i) => ({
    metadata: { name: `backend-${i}`, namespace: 'bench', labels: { app: 'bench' } },
    spec: { nodeName: NODE, containers: [{ name: 'main', image: 'tycho/echo' }] },
    status: { podIP: address, hostIP: '10.250.2.1', conditions: [{ type: 'Ready', status: 'True' }] },
  }));
  const nodes: V1Node[] = [{ metadata: { name: NODE }, status: { addresses: [{ type: 'InternalIP', address: '10.250.2.1' }] } }];
  return { services, endpointSlices: endpointSlicesFromPods(services, pods), nodes };
}

/** The model → map records path the agent takes, from Kubernetes objects to map entries. */
function serviceEntries(count: number): ServiceMapEntries {
  return compileServiceMaps(buildServiceModel(kubeObjects(count)), NODE);
}

/** kube-proxy's chain-name hash: base32 of SHA-256 over the service port (and endpoint), first 16 characters. */
function chainHash(text: string): string {
  const digest = createHash('sha256').update(text).digest();
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < 16) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    if (out.length === 16) break;
  }
  return out;
}

/**
 * The nat table kube-proxy's iptables mode writes for `count` ClusterIP
 * services with two endpoints each: one KUBE-SERVICES rule per service (so
 * the lookup is linear), a KUBE-SVC chain with the masquerade-mark rule and
 * the statistic/probability split, and a KUBE-SEP chain per endpoint with the
 * hairpin mark and the DNAT.
 */
export function kubeProxyRules(count: number, backends: readonly string[] = IPT_BACKENDS): string {
  const chains = [':KUBE-SERVICES - [0:0]', ':KUBE-POSTROUTING - [0:0]', ':KUBE-MARK-MASQ - [0:0]', ':KUBE-NODEPORTS - [0:0]'];
  const rules = [
    '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
    '-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000',
    '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
    '-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0',
    '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
  ];
  const services: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = `bench/${serviceName(i)}:http`;
    const vip = clusterIp(i);
    const svc = `KUBE-SVC-${chainHash(`${name}tcp`)}`;
    chains.push(`:${svc} - [0:0]`);
    services.push(`-A KUBE-SERVICES -d ${vip}/32 -p tcp -m comment --comment "${name} cluster IP" -m tcp --dport ${SERVICE_PORT} -j ${svc}`);
    rules.push(`-A ${svc} ! -s ${CLUSTER_CIDR} -d ${vip}/32 -p tcp -m comment --comment "${name} cluster IP" -m tcp --dport ${SERVICE_PORT} -j KUBE-MARK-MASQ`);
    backends.forEach((backend, b) => {
      const endpoint = `${backend}:${BACKEND_PORT}`;
      const sep = `KUBE-SEP-${chainHash(`${name}tcp${endpoint}`)}`;
      chains.push(`:${sep} - [0:0]`);
      const remaining = backends.length - b;
      const split = remaining > 1 ? ` -m statistic --mode random --probability ${(1 / remaining).toFixed(11)}` : '';
      rules.push(`-A ${svc} -m comment --comment "${name} -> ${endpoint}"${split} -j ${sep}`);
      rules.push(`-A ${sep} -s ${backend}/32 -m comment --comment "${name}" -j KUBE-MARK-MASQ`);
      rules.push(`-A ${sep} -p tcp -m comment --comment "${name}" -m tcp -j DNAT --to-destination ${endpoint}`);
    });
  }
  services.push('-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS');
  return ['*nat', ...chains, ...rules, ...services, 'COMMIT', ''].join('\n');
}

/** Runs iptables-restore in the iptables namespace with `rules` on stdin. */
function iptablesRestore(rules: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const argv = inNetns(NS.ipt, ['iptables-restore', '-w']);
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (error) => reject(new Error(`cannot run iptables-restore: ${error.message}`)));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`iptables-restore failed (exit ${code}): ${stderr.trim().slice(-800)}`))));
    child.stdin.end(rules);
  });
}

async function kubeServicesRuleCount(): Promise<number> {
  const saved = await mustRun('nsenter', [`--net=${NETNS_DIR}/${NS.ipt}`, '--', 'iptables-save', '-t', 'nat']);
  return saved.split('\n').filter((line) => line.startsWith('-A KUBE-SERVICES -d ')).length;
}

async function addNetns(name: string, ctx: BenchmarkContext): Promise<void> {
  if (!name.startsWith('tycho-bench-')) throw new Error(`refusing to create namespace '${name}': benchmark namespaces are named tycho-bench-*`);
  if (existsSync(join(NETNS_DIR, name))) {
    ctx.log(`removing stale namespace ${name} from an earlier run`);
    await ip(['netns', 'del', name]);
  }
  await ip(['netns', 'add', name]);
  ctx.defer(() => ip(['netns', 'del', name]).then(() => undefined));
  await ip(['link', 'set', 'lo', 'up'], name);
}

/** Wires a client namespace to the server namespace: client eth0 <clientAddress>/24, server <serverIfname> with the backends. */
async function wire(clientNs: string, serverIfname: string, clientAddress: string, backends: readonly string[]): Promise<void> {
  await ip(['link', 'add', serverIfname, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', clientNs], NS.server);
  for (const address of backends) await ip(['addr', 'add', `${address}/24`, 'dev', serverIfname], NS.server);
  await ip(['link', 'set', serverIfname, 'up'], NS.server);
  await ip(['addr', 'add', `${clientAddress}/24`, 'dev', 'eth0'], clientNs);
  await ip(['link', 'set', 'eth0', 'up'], clientNs);
}

export const serviceLb: Benchmark = {
  name: 'serviceLb',
  summary: 'connect() to a ClusterIP with 100/1k/10k services: socket-LB vs kube-proxy iptables chains vs pod IP; programming 10k services',
  async run(ctx) {
    const { log, defer } = ctx;
    const runDir = mkdtempSync('/tmp/tycho-bench-svc-');
    defer(() => rmSync(runDir, { recursive: true, force: true }));
    const probe = join(runDir, 'connectProbe');
    await mustRun('cc', ['-O2', '-Wall', '-o', probe, PROBE_SOURCE]);
    const iptablesVersion = (await mustRun('iptables-restore', ['--version'])).trim();
    log(`client/server: ${probe} (cc -O2); ${iptablesVersion}`);

    for (const ns of Object.values(NS)) await addNetns(ns, ctx);
    await wire(NS.sock, 'sock0', '10.250.2.1', SOCK_BACKENDS);
    await wire(NS.ipt, 'ipt0', '10.250.1.1', IPT_BACKENDS);
    // kube-proxy's nodes route ClusterIPs somewhere (a default route); the socket-LB namespace has no
    // route to them at all, so a connect() there succeeds only if the program translated it.
    await ip(['route', 'add', 'default', 'via', IPT_BACKENDS[0]], NS.ipt);

    const id = randomBytes(4).toString('hex');
    const cgroup = `/sys/fs/cgroup/unified/tycho-bench-svc-${id}`;
    const pinDir = `/sys/fs/bpf/tycho-bench-svc-${id}`;
    const emptyCgroup = `${cgroup}-empty`;
    for (const group of [cgroup, emptyCgroup]) {
      mkdirSync(group);
      defer(() => {
        if (existsSync(group)) rmdirSync(group);
      });
    }
    defer(() => rmSync(pinDir, { recursive: true, force: true }));
    const datapath = ServiceDatapath.open({ pinDir });
    defer(() => {
      datapath.close();
      ServiceDatapath.detach(pinDir);
    });
    datapath.attach(cgroup);
    const attached = ServiceDatapath.attachedProgramIds(cgroup);
    log(`socket-LB: bpf_sock.o on ${cgroup} (program ids ${JSON.stringify(attached)}), pins in ${pinDir}`);

    const serverArgv = inNetns(NS.server, ['nice', '-n', NICE, 'taskset', '-c', CPU, probe, 'server', String(BACKEND_PORT)]);
    const server = spawn(serverArgv[0]!, serverArgv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    defer(() => {
      server.kill('SIGKILL');
    });
    await new Promise<void>((resolve, reject) => {
      let stderr = '';
      server.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      createInterface({ input: server.stdout! }).once('line', (line) => (line === 'ready' ? resolve() : reject(new Error(`server said '${line}'`))));
      server.once('exit', (code) => reject(new Error(`server exited (${code}): ${stderr.trim()}`)));
    });

    /** One round of the C client: in the cgroup for socket-LB (and direct in cgroup), in the iptables namespace for iptables. */
    const connectRound = async (path: Path, target: string): Promise<ProbeRound> => {
      const dest = path.startsWith('direct') ? [SOCK_BACKENDS[0], String(BACKEND_PORT)] : [target, String(SERVICE_PORT)];
      const client = inNetns(path === 'iptables' ? NS.ipt : NS.sock, ['nice', '-n', NICE, 'taskset', '-c', CPU, probe, 'client', ...dest, String(CONNECTIONS_PER_ROUND)]);
      // The shell moves itself into the cgroup before exec, so the client starts there (socket-LB only).
      const group = path === 'socket-LB' || path === 'direct in cgroup' ? cgroup : path === 'direct in empty cgroup' ? emptyCgroup : undefined;
      const argv = group ? ['sh', '-c', 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"', 'sh', group, ...client] : client;
      const result = await runCommand(argv[0]!, argv.slice(1), 120_000);
      if (result.code !== 0) throw new Error(`${path} client failed (exit ${result.code}): ${(result.stderr || result.stdout).slice(-500)}`);
      const round = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as ProbeRound;
      const expectedPeer = `${dest[0]}:${dest[1]}`;
      if (round.failed !== 0) throw new Error(`${path}: ${round.failed} of ${CONNECTIONS_PER_ROUND} connect() to ${expectedPeer} failed (first: ${round.firstError})`);
      if (round.peer !== expectedPeer) throw new Error(`${path}: getpeername() gave ${round.peer}, expected ${expectedPeer}`);
      return round;
    };

    let bpfEntries: ServiceMapEntries = { services: [], backends: [], revNat: [], maglev: [] };
    const programBpf = (entries: ServiceMapEntries): void => {
      datapath.apply(serviceMapOps(diffServiceMaps(bpfEntries, entries)));
      bpfEntries = entries;
    };
    const emptyEntries: ServiceMapEntries = { services: [], backends: [], revNat: [], maglev: [] };

    const checks: string[] = [];
    const variants: Variant[] = [];
    const largest = Math.max(...SIZES);
    let program: { bpf: Measurement; bpfApply: Measurement; iptables: Measurement } | undefined;
    let headline: { socketLb: Measurement; direct: Measurement } | undefined;
    const perSize: string[] = [];

    for (const size of [...SIZES].sort((a, b) => a - b)) {
      if (size === largest) {
        // Time to program: from Kubernetes objects to programmed maps/rules, starting empty each time, in interleaved pairs.
        log(`programming ${size} services: ${PROGRAM_PAIRS} interleaved pairs (BPF maps, iptables-restore)`);
        const bpf: number[] = [];
        const bpfApply: number[] = [];
        const ipt: number[] = [];
        for (let pair = 0; pair < PROGRAM_PAIRS; pair++) {
          programBpf(emptyEntries);
          const t0 = performance.now();
          const entries = serviceEntries(size);
          const ops = serviceMapOps(diffServiceMaps(emptyEntries, entries));
          const t1 = performance.now();
          datapath.apply(ops);
          const t2 = performance.now();
          bpfEntries = entries;
          bpf.push(t2 - t0);
          bpfApply.push(t2 - t1);

          await iptablesRestore('*nat\nCOMMIT\n');
          const t3 = performance.now();
          await iptablesRestore(kubeProxyRules(size));
          ipt.push(performance.now() - t3);
          log(`program pair ${pair + 1}/${PROGRAM_PAIRS}: BPF ${bpf.at(-1)!.toFixed(0)} ms (map writes ${bpfApply.at(-1)!.toFixed(0)} ms, ${ops.length} ops), iptables-restore ${ipt.at(-1)!.toFixed(0)} ms`);
        }
        program = {
          bpf: measurement(`BPF: model + compile + ServiceDatapath.apply, ${size} services`, 'ms', bpf),
          bpfApply: measurement(`BPF: ServiceDatapath.apply alone (map writes), ${size} services`, 'ms', bpfApply),
          iptables: measurement(`iptables: rules text + iptables-restore, ${size} services`, 'ms', ipt),
        };
      } else {
        programBpf(serviceEntries(size));
        await iptablesRestore(kubeProxyRules(size));
      }

      const frontends = bpfEntries.services.filter((e) => e.key.backendSlot === 0).length;
      const rules = await kubeServicesRuleCount();
      const mapFrontends = [...datapath.services.keys()].filter((k) => k.backendSlot === 0).length;
      checks.push(
        check(frontends === size && mapFrontends === size && rules === size, `${size} services programmed in both`, `${mapFrontends} frontends in tycho_lb4_svc, ${rules} KUBE-SERVICES service rules`),
      );
      // The service in the middle of KUBE-SERVICES: iptables walks half the list, what a random service costs on average.
      const target = clusterIp(Math.floor(size / 2));
      log(`${size} services: connecting to ${target}:${SERVICE_PORT} (service ${Math.floor(size / 2)} of ${size}); warm-up rounds (not counted)`);
      for (const path of PATHS) await connectRound(path, target);

      const rounds = new Map<Path, ProbeRound[]>(PATHS.map((p) => [p, []]));
      for (let set = 0; set < ROUND_SETS; set++) {
        const order = PATHS.map((_, i) => PATHS[(i + set) % PATHS.length]!);
        for (const path of order) rounds.get(path)!.push(await connectRound(path, target));
        log(
          `${size} services, set ${set + 1}/${ROUND_SETS}: ` +
            PATHS.map((p) => {
              const r = rounds.get(p)!.at(-1)!;
              return `${p} p50 ${(r.p50Ns / 1000).toFixed(1)} µs p99 ${(r.p99Ns / 1000).toFixed(1)} µs ${Math.round(r.perSecond)}/s`;
            }).join('; '),
        );
      }
      const figure = (path: Path, what: 'p50' | 'p99' | 'rate'): Measurement => {
        const list = rounds.get(path)!;
        if (what === 'rate') return measurement(`${path}, ${size} services: connections/s`, 'connections/s', list.map((r) => r.perSecond));
        return measurement(`${path}, ${size} services: connect() ${what}`, 'µs', list.map((r) => (what === 'p50' ? r.p50Ns : r.p99Ns) / 1000));
      };
      for (const what of ['p50', 'p99', 'rate'] as const) {
        const direct = figure('direct', what);
        variants.push({ measured: direct, ratio: 1, baseline: direct });
        for (const path of ['socket-LB', 'iptables', 'direct in cgroup', 'direct in empty cgroup'] as const) {
          const m = figure(path, what);
          variants.push({ measured: m, baseline: direct, ratio: pairedRatio(m.rounds, direct.rounds) });
        }
      }
      const sockP50 = figure('socket-LB', 'p50');
      const iptP50 = figure('iptables', 'p50');
      variants.push({ measured: iptP50, baseline: sockP50, ratio: pairedRatio(iptP50.rounds, sockP50.rounds) });
      const sockRate = figure('socket-LB', 'rate');
      const iptRate = figure('iptables', 'rate');
      variants.push({ measured: sockRate, baseline: iptRate, ratio: pairedRatio(sockRate.rounds, iptRate.rounds) });
      const total = PATHS.reduce((n, p) => n + rounds.get(p)!.reduce((m, r) => m + r.connections, 0), 0);
      checks.push(
        check(total === (ROUND_SETS * PATHS.length) * CONNECTIONS_PER_ROUND, `${size} services: every connect() succeeded, getpeername() gave the ClusterIP (socket-LB, iptables) or the pod IP (the direct paths)`, `${total} connections`),
      );
      perSize.push(
        `${size} services: p50 direct ${figure('direct', 'p50').value.toFixed(1)} / socket-LB ${sockP50.value.toFixed(1)} / iptables ${iptP50.value.toFixed(1)} µs; ` +
          `socket-LB/direct p50 ${pairedRatio(sockP50.rounds, figure('direct', 'p50').rounds).toFixed(3)}, iptables/socket-LB p50 ${pairedRatio(iptP50.rounds, sockP50.rounds).toFixed(3)}`,
      );
      if (size === largest) headline = { socketLb: sockRate, direct: figure('direct', 'rate') };
    }

    if (!program || !headline) throw new Error('no sizes measured');
    variants.push({ measured: program.iptables, baseline: program.bpf, ratio: pairedRatio(program.iptables.rounds, program.bpf.rounds) });
    variants.push({ measured: program.bpfApply, baseline: program.bpf, ratio: pairedRatio(program.bpfApply.rounds, program.bpf.rounds) });
    for (const line of perSize) log(line);

    // The goals at the largest size (10,000 in the documented run).
    const p50 = (path: Path) => variants.find((v) => v.measured.label === `${path}, ${largest} services: connect() p50`)!.measured;
    const vsDirect = pairedRatio(p50('socket-LB').rounds, p50('direct').rounds);
    const rateVsDirect = pairedRatio(headline.direct.rounds, headline.socketLb.rounds);
    const vsIptables = pairedRatio(p50('iptables').rounds, p50('socket-LB').rounds);
    const programVsIptables = pairedRatio(program.iptables.rounds, program.bpf.rounds);
    log(`goal: socket-LB within ${GOAL_VS_DIRECT}x of direct at ${largest} services: p50 ${vsDirect.toFixed(3)}x, connections/s ${rateVsDirect.toFixed(3)}x → ${vsDirect <= GOAL_VS_DIRECT && rateVsDirect <= GOAL_VS_DIRECT ? 'met' : 'NOT met'}`);
    log(`goal: socket-LB at least ${GOAL_VS_IPTABLES}x faster than iptables at ${largest} services: p50 ${vsIptables.toFixed(2)}x → ${vsIptables >= GOAL_VS_IPTABLES ? 'met' : 'NOT met'}; programming ${programVsIptables.toFixed(2)}x → ${programVsIptables >= GOAL_VS_IPTABLES ? 'met' : 'NOT met'}`);

    return {
      name: this.name,
      measured: headline.socketLb,
      baseline: headline.direct,
      ratio: pairedRatio(headline.socketLb.rounds, headline.direct.rounds),
      goal: { kind: 'ratioAtLeast', min: Number((1 / GOAL_VS_DIRECT).toFixed(3)) },
      variants,
      checks,
    };
  },
};
