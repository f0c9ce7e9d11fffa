import { closeSync, mkdirSync, openSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import type { V1Container, V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import { parsePolicies } from '@tycho/policy';
import { endpointSlicesForService } from '@tycho/services';
import { NodeAgent } from './agents.ts';
import { stopChild } from './stopChild.ts';
import { API_URL, LabApi } from './labApi.ts';
import { LabPrometheus, PROMETHEUS_BIN } from './labPrometheus.ts';
import { ensureCgroup, killCgroupTree, spawnInCgroup } from './cgroups.ts';
import { removeLabResources } from './cleanup.ts';
import { buildDnsRecords, searchDomains } from './dnsRecords.ts';
import { namespaceObject, podObject, nodeObject, type PodRecord } from './kubeObjects.ts';
import type { DesiredObject, LabClusterWriter } from './labClusterWriter.ts';
import { LabKubeApiServer } from './labKubeApiServer.ts';
import { matchesLabelMap } from './labelSelector.ts';
import { loadManifests, type LabManifests, type PolicyObject, type Workload } from './manifest.ts';
import { LAB_NODES, labNode, type LabNode } from './nodes.ts';
import {
  agentSocket,
  CGROUP_ROOT,
  DNS_RECORDS_FILE,
  KUBECONFIG_FILE,
  LAB_DIR,
  LOG_DIR,
  podLogFile,
  REPO_ROOT,
  STATE_FILE,
  WORLD_MAIN,
} from './paths.ts';
import { placePods, podKey, type PendingPod } from './placement.ts';
import { nameSuffix, podNetnsName, podTemplateHash, replicaSetName } from './podNames.ts';
import { containerSpecFor, createSandbox, removeSandbox, startContainer, type PodSandbox } from './podRuntime.ts';
import { allocateLabServices, clusterDnsAddress, labServiceDnsRecords } from './labServices.ts';
import { writeLabState, type LabState } from './state.ts';
import { inNetns } from './systemCommand.ts';
import { buildTopology } from './topology.ts';
import { workloadForImage, type WorkloadKind } from './workloadImages.ts';
import { WORLD_HOSTS, WORLD_NETNS } from './world.ts';

const CLUSTER_DNS_SERVICE = { namespace: 'kube-system', name: 'kube-dns' };
const CONTAINER_STOP_GRACE_MS = 3000;
const MAX_RESTART_DELAY_MS = 10_000;

interface ContainerRun {
  readonly container: V1Container;
  readonly workload: WorkloadKind;
  child: ChildProcess | undefined;
  ready: boolean;
  restarts: number;
  /** The readiness probe's last outcome, for `tycho connectivity test`. */
  lastProbe: { ok: boolean; detail: string } | undefined;
}

/** A pod the supervisor runs: what it was made from, where it runs, and its containers. */
interface LabPod {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly owner: string;
  readonly ownerRef: PodRecord['ownerRef'];
  readonly labels: Record<string, string>;
  readonly workload: Workload;
  readonly createdAt: Date;
  node: LabNode | undefined;
  sandbox: PodSandbox | undefined;
  containers: ContainerRun[];
  readySince: Date | undefined;
}

function podReady(pod: LabPod): boolean {
  return pod.sandbox !== undefined && pod.containers.length > 0 && pod.containers.every((c) => c.ready);
}

/** Pods a workload asks for, named as Kubernetes names them. */
function podsOf(workload: Workload, nodes: readonly LabNode[], createdAt: Date): LabPod[] {
  const base = { workload, createdAt, node: undefined, sandbox: undefined, containers: [], readySince: undefined };
  const owner = `${workload.kind}/${workload.namespace}/${workload.name}`;
  switch (workload.kind) {
    case 'Pod':
      return [{ ...base, namespace: workload.namespace, name: workload.name, uid: randomUUID(), owner, ownerRef: undefined, labels: { ...workload.podLabels } }];
    case 'DaemonSet':
      return nodes.map((node) => ({
        ...base,
        namespace: workload.namespace,
        name: `${workload.name}-${nameSuffix()}`,
        uid: randomUUID(),
        owner,
        ownerRef: { kind: 'DaemonSet' as const, name: workload.name },
        labels: { ...workload.podLabels },
        workload: { ...workload, podSpec: { ...workload.podSpec, nodeName: node.name } },
      }));
    case 'Deployment': {
      const hash = podTemplateHash({ labels: workload.podLabels, spec: workload.podSpec });
      return Array.from({ length: workload.replicas }, () => ({
        ...base,
        namespace: workload.namespace,
        name: `${replicaSetName(workload.name, hash)}-${nameSuffix()}`,
        uid: randomUUID(),
        owner,
        ownerRef: { kind: 'ReplicaSet' as const, name: replicaSetName(workload.name, hash) },
        labels: { ...workload.podLabels, 'pod-template-hash': hash },
      }));
    }
  }
}

/**
 * The lab's control loop, standing in for the scheduler and the kubelet of
 * both nodes: builds the network, starts the lab's Kubernetes API server and
 * the agents, places the manifests' pods, wires them through tycho-cni, runs
 * their containers and keeps their readiness (in the API, with the Services'
 * EndpointSlices, and in the cluster DNS zone) current.
 */
export class LabSupervisor {
  private kubeApi: LabKubeApiServer | undefined;
  private writer: LabClusterWriter | undefined;
  /** The Node and Pod objects last written, which the lab's DNS records are built from. */
  private readonly nodeObjects: V1Node[] = [];
  private readonly podObjects = new Map<string, V1Pod>();
  /** Each Service's EndpointSlices last written, to delete those that go away. */
  private readonly slicesByService = new Map<string, string[]>();
  private readonly startedAt = new Date();
  private manifests: LabManifests | undefined;
  private services: V1Service[] = [];
  private pods: LabPod[] = [];
  private pending: PendingPod[] = [];
  private agents: NodeAgent[] = [];
  private api: LabApi | undefined;
  private prometheus: LabPrometheus | undefined;
  private world: ChildProcess | undefined;
  private nameservers: string[] = [];
  private phase: LabState['phase'] = 'starting';
  private stopping = false;
  private publishTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly opts: { manifests: readonly string[]; log: (line: string) => void },
  ) {}

  private log(line: string): void {
    this.opts.log(`[lab] ${line}`);
  }

  /** The manifests' policies into the API, as `tycho policy apply` would: all or none (a PolicyError names file, object, path). */
  private applyPolicies(writer: LabClusterWriter, policies: readonly PolicyObject[]): void {
    if (policies.length === 0) return;
    const files = [...new Set(policies.map((policy) => policy.file))];
    const parsed = files.flatMap((file) => parsePolicies(policies.filter((policy) => policy.file === file).map(({ file: _file, ...object }) => object), { file }));
    for (const policy of parsed) {
      const source = policy.source as DesiredObject;
      writer.put({ ...source, metadata: { ...source.metadata, ...(policy.ref.namespace ? { namespace: policy.ref.namespace } : {}) } });
    }
    this.log(`applied ${parsed.length} network ${parsed.length === 1 ? 'policy' : 'policies'}`);
  }

  /** Builds and starts the lab; on failure removes everything it made and rethrows. */
  async start(): Promise<void> {
    try {
      await this.startSteps();
    } catch (err) {
      this.phase = 'failed';
      this.log(`lab failed to start: ${(err as Error).message}`);
      await this.stop();
      throw err;
    }
  }

  private async startSteps(): Promise<void> {
    const manifests = loadManifests(this.opts.manifests);
    this.manifests = manifests;
    for (const workload of manifests.workloads) {
      for (const container of workload.podSpec.containers) workloadForImage(container.image ?? '');
    }
    for (const ignored of manifests.ignored) this.log(`ignoring ${ignored.kind} ${ignored.name} from ${ignored.file} (the lab does not run this kind)`);
    mkdirSync(LOG_DIR, { recursive: true });
    this.publishNow();

    this.services = allocateLabServices(manifests.services);
    this.log('building network namespaces (underlay, nodes, world)');
    await buildTopology();
    ensureCgroup(CGROUP_ROOT);
    for (const node of LAB_NODES) ensureCgroup(join(CGROUP_ROOT, node.name));

    this.log(`starting the Kubernetes API server (the lab's kube-apiserver double) on 127.0.0.1:6443`);
    this.kubeApi = new LabKubeApiServer((line) => this.log(line), () => this.schedulePublish());
    await this.kubeApi.start();
    // client-node (and the writer built on it) is loaded only here: importing it costs every `tycho` command ~0.5 s.
    const [{ KubeConfig }, { createLabClusterWriter }] = await Promise.all([import('@kubernetes/client-node'), import('./labClusterWriter.ts')]);
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(KUBECONFIG_FILE);
    const writer = createLabClusterWriter(kubeConfig, (line) => this.log(line));
    this.writer = writer;
    await writer.applyCustomResourceDefinitions();
    for (const namespace of ['default', 'kube-system', ...manifests.namespaces]) writer.put(namespaceObject(namespace));
    for (const node of LAB_NODES) {
      const object = nodeObject(node, this.startedAt);
      this.nodeObjects.push(object);
      writer.put(object);
    }
    // kubelet's clusterDNS: pods ask the kube-dns ClusterIP, which the socket
    // load-balancer (bpf_sock.c on the node's cgroup) sends to a DNS pod.
    const clusterDns = clusterDnsAddress(this.services);
    this.nameservers = clusterDns ? [clusterDns] : [];
    for (const service of this.services) writer.put(service);
    this.applyPolicies(writer, manifests.policies);
    this.writeEndpointSlices();
    await writer.flushed();
    this.startWorld();

    this.log(`starting agents on ${LAB_NODES.map((n) => n.name).join(', ')}`);
    this.agents = LAB_NODES.map((node) => new NodeAgent(node, (line) => this.log(line), () => this.schedulePublish()));
    await Promise.all(this.agents.map((agent) => agent.start()));
    this.log('starting the API and web app on :32321');
    this.api = new LabApi((line) => this.log(line), () => this.schedulePublish());
    await this.api.start();
    if (LabPrometheus.installed()) {
      this.prometheus = new LabPrometheus((line) => this.log(line));
      await this.prometheus.start();
    } else {
      this.log(`not starting Prometheus: ${PROMETHEUS_BIN} is not installed (Debian package prometheus)`);
    }

    this.schedulePods(manifests.workloads);
    for (const pod of this.pods) this.putPod(pod);
    this.publishNow();

    this.log(`creating ${this.pods.filter((p) => p.node).length} pod sandboxes through tycho-cni`);
    await perNode(this.pods, async (pod, node) => {
      pod.sandbox = await createSandbox({
        namespace: pod.namespace,
        name: pod.name,
        node,
        hostNetwork: pod.workload.podSpec.hostNetwork === true,
        netns: podNetnsName(pod.namespace, pod.name),
        containerId: createHash('sha256').update(pod.uid).digest('hex').slice(0, 32),
      });
      this.putPod(pod);
    });
    this.writeDnsRecords();

    const dnsFirst = [...this.pods].sort((a, b) => Number(this.isClusterDns(b)) - Number(this.isClusterDns(a)));
    for (const pod of dnsFirst) {
      if (!pod.sandbox) continue;
      pod.containers = pod.workload.podSpec.containers.map((container) => ({
        container,
        workload: workloadForImage(container.image ?? ''),
        child: undefined,
        ready: false,
        restarts: 0,
        lastProbe: undefined,
      }));
      for (const run of pod.containers) this.runContainer(pod, run);
      this.putPod(pod);
    }
    this.phase = 'running';
    this.publishNow();
    this.log(`lab is up: ${this.pods.length} pods (${this.pending.length} pending)`);
  }

  private startWorld(): void {
    const logFd = openSync(join(LOG_DIR, 'world.log'), 'a');
    const argv = inNetns(WORLD_NETNS, [process.execPath, '--import', 'tsx', WORLD_MAIN]);
    const child = spawnInCgroup(join(CGROUP_ROOT, 'world'), argv, { stdio: ['ignore', logFd, logFd], cwd: REPO_ROOT });
    closeSync(logFd);
    child.on('exit', (code, signal) => {
      if (!this.stopping) this.log(`world servers exited (${signal ?? `code ${code}`}); see ${join(LOG_DIR, 'world.log')}`);
    });
    this.world = child;
  }

  private schedulePods(workloads: readonly Workload[]): void {
    this.pods = workloads.flatMap((w) => podsOf(w, LAB_NODES, this.startedAt));
    const placement = placePods(
      this.pods.map((pod) => ({ namespace: pod.namespace, name: pod.name, labels: pod.labels, spec: pod.workload.podSpec, owner: pod.owner })),
      LAB_NODES.map((n) => n.name),
    );
    for (const pod of this.pods) {
      const nodeName = placement.nodeOf.get(podKey(pod));
      pod.node = nodeName ? labNode(nodeName) : undefined;
    }
    this.pending = [...placement.pending];
    for (const p of this.pending) this.log(`pod ${podKey(p.pod)} stays Pending: ${p.reason}`);
  }

  private isClusterDns(pod: LabPod): boolean {
    const service = this.services.find((s) => s.metadata?.namespace === CLUSTER_DNS_SERVICE.namespace && s.metadata?.name === CLUSTER_DNS_SERVICE.name);
    return pod.namespace === CLUSTER_DNS_SERVICE.namespace && matchesLabelMap(service?.spec?.selector, pod.labels);
  }

  private runContainer(pod: LabPod, run: ContainerRun): void {
    const sandbox = pod.sandbox;
    if (!sandbox || this.stopping) return;
    const spec = containerSpecFor(sandbox, run.container, run.workload, {
      nameservers: this.nameservers,
      searchDomains: searchDomains(pod.namespace),
    });
    const child = startContainer(sandbox, spec, (status) => {
      if (run.child !== child) return;
      if (status.tycho === 'probe') {
        run.lastProbe = { ok: status.ok, detail: status.detail };
        this.schedulePublish();
        return;
      }
      this.setContainerReady(pod, run, status.ready);
      this.log(`${podKey(pod)} ${status.ready ? 'ready' : 'not ready'}: ${status.detail}`);
    });
    run.child = child;
    this.putPod(pod);
    child.on('exit', (code, signal) => {
      if (run.child !== child) return;
      run.child = undefined;
      this.setContainerReady(pod, run, false);
      if (this.stopping) return;
      run.restarts++;
      this.putPod(pod);
      const delay = Math.min(MAX_RESTART_DELAY_MS, 1000 * 2 ** Math.min(run.restarts - 1, 4));
      this.log(`${podKey(pod)} container ${run.container.name} exited (${signal ?? `code ${code}`}); restart ${run.restarts} in ${delay} ms (log: ${podLogFile(pod.namespace, pod.name)})`);
      setTimeout(() => this.runContainer(pod, run), delay);
    });
  }

  private setContainerReady(pod: LabPod, run: ContainerRun, ready: boolean): void {
    const wasReady = podReady(pod);
    run.ready = ready;
    const nowReady = podReady(pod);
    if (wasReady !== nowReady) pod.readySince = new Date();
    this.putPod(pod);
    if (wasReady !== nowReady) {
      this.writeEndpointSlices();
      this.writeDnsRecords();
    }
    this.schedulePublish();
  }

  private putPod(pod: LabPod): void {
    if (this.stopping) return;
    const object = podObject({
        namespace: pod.namespace,
        name: pod.name,
        labels: pod.labels,
        ownerRef: pod.ownerRef,
        spec: pod.workload.podSpec,
        nodeName: pod.node?.name,
        hostIP: pod.node?.ip,
        podIP: pod.sandbox?.ip,
        phase: pod.containers.some((c) => c.child) ? 'Running' : 'Pending',
        ready: podReady(pod),
        containers:
          pod.containers.length > 0
            ? pod.containers.map((run) => ({ name: run.container.name, image: run.container.image ?? '', running: run.child !== undefined, ready: run.ready, restarts: run.restarts }))
            : pod.workload.podSpec.containers.map((container) => ({ name: container.name, image: container.image ?? '', running: false, ready: false, restarts: 0 })),
        createdAt: pod.createdAt,
        readySince: pod.readySince,
      });
    this.podObjects.set(podKey(pod), object);
    this.writer?.put(object);
  }

  /** Every Service's EndpointSlices from the pods as they are now, as the EndpointSlice controller keeps them. */
  private writeEndpointSlices(): void {
    const writer = this.writer;
    if (this.stopping || !writer) return;
    const pods = [...this.podObjects.values()];
    for (const service of this.services) {
      const key = `${service.metadata?.namespace}/${service.metadata?.name}`;
      let slices;
      try {
        slices = endpointSlicesForService(service, pods);
      } catch (err) {
        this.log(`cannot build the EndpointSlices of Service ${key}: ${(err as Error).message}`);
        continue;
      }
      const names = slices.map((slice) => slice.metadata?.name ?? '');
      for (const gone of (this.slicesByService.get(key) ?? []).filter((name) => !names.includes(name))) {
        writer.remove({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: gone, namespace: service.metadata?.namespace } });
      }
      for (const slice of slices) writer.put(slice);
      this.slicesByService.set(key, names);
    }
  }

  /** Service names as @tycho/services answers them, from the pods and nodes the lab wrote; none if the model cannot be built (logged). */
  private serviceDnsRecords(): Record<string, string[]> {
    try {
      return labServiceDnsRecords({ services: this.services, pods: [...this.podObjects.values()], nodes: this.nodeObjects });
    } catch (err) {
      this.log(`cannot build the service DNS records: ${(err as Error).message}`);
      return {};
    }
  }

  private writeDnsRecords(): void {
    if (this.stopping) return;
    const records = buildDnsRecords({
      pods: this.pods.map((p) => ({ namespace: p.namespace, name: p.name, labels: p.labels, ip: p.sandbox?.ip, ready: podReady(p) })),
      serviceRecords: this.serviceDnsRecords(),
      world: WORLD_HOSTS,
    });
    mkdirSync(dirname(DNS_RECORDS_FILE), { recursive: true });
    writeFileSync(`${DNS_RECORDS_FILE}.tmp`, JSON.stringify(records));
    renameSync(`${DNS_RECORDS_FILE}.tmp`, DNS_RECORDS_FILE);
  }

  private state(): LabState {
    const deployments = (this.manifests?.workloads ?? []).filter((w) => w.kind === 'Deployment');
    return {
      phase: this.phase,
      supervisorPid: process.pid,
      startedAtMs: this.startedAt.getTime(),
      manifests: [...this.opts.manifests],
      nodes: LAB_NODES.map((node) => {
        const agent = this.agents.find((a) => a.node === node);
        return { name: node.name, netns: node.netns, ip: node.ip, podCidr: node.podCidr, agentSocket: agentSocket(node.name), ...(agent?.pid ? { agentPid: agent.pid } : {}) };
      }),
      world: { netns: WORLD_NETNS, ...(this.world?.pid ? { pid: this.world.pid } : {}) },
      api: { url: API_URL, ...(this.api?.pid ? { pid: this.api.pid } : {}) },
      deployments: deployments.map((d) => ({ namespace: d.namespace, name: d.name, replicas: d.replicas, createdAtMs: this.startedAt.getTime() })),
      pods: this.pods.map((p) => ({
        namespace: p.namespace,
        name: p.name,
        owner: p.owner,
        node: p.node?.name ?? '',
        netns: p.sandbox?.netns ?? '',
        hostNetwork: p.workload.podSpec.hostNetwork === true,
        ...(p.sandbox ? { ip: p.sandbox.ip } : {}),
        containerId: p.sandbox?.containerId ?? '',
        cgroup: p.sandbox?.cgroup ?? '',
        pids: p.containers.flatMap((c) => (c.child?.pid ? [c.child.pid] : [])),
        ready: podReady(p),
        restarts: p.containers.reduce((n, c) => n + c.restarts, 0),
        logFile: podLogFile(p.namespace, p.name),
        probes: p.containers.flatMap((c) => (c.lastProbe ? [c.lastProbe] : [])),
      })),
      pending: this.pending.map((p) => ({ namespace: p.pod.namespace, name: p.pod.name, reason: p.reason })),
    };
  }

  private publishNow(): void {
    clearTimeout(this.publishTimer);
    this.publishTimer = undefined;
    if (this.stopping && this.phase !== 'stopping') return;
    try {
      writeLabState(this.state(), STATE_FILE);
    } catch (err) {
      this.log(`cannot write ${STATE_FILE}: ${(err as Error).message}`);
    }
  }

  private schedulePublish(): void {
    this.publishTimer ??= setTimeout(() => this.publishNow(), 100);
  }

  /** Stops pods (CNI DEL each), agents and the world, then removes everything the lab made. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.phase = 'stopping';
    this.publishNow();
    this.stopping = true;
    clearTimeout(this.publishTimer);
    const children = this.pods.flatMap((p) => p.containers.flatMap((c) => (c.child ? [c.child] : [])));
    await Promise.all(children.map((child) => stopChild(child, CONTAINER_STOP_GRACE_MS)));
    await perNode(this.pods, async (pod) => {
      if (!pod.sandbox) return;
      try {
        await removeSandbox(pod.sandbox);
      } catch (err) {
        this.log(`teardown: ${(err as Error).message}`);
      }
    });
    await Promise.all([this.api?.stop(), this.prometheus?.stop()]);
    await Promise.all(this.agents.map((agent) => agent.stop()));
    this.writer?.close();
    await this.kubeApi?.stop();
    if (this.world) await stopChild(this.world, 1000);
    try {
      await killCgroupTree(CGROUP_ROOT);
    } catch (err) {
      this.log(`teardown: ${(err as Error).message}`);
    }
    await removeLabResources((line) => this.log(line));
    this.log(`lab is down (removed namespaces, pins, cgroups and ${LAB_DIR})`);
  }
}

/** Runs `fn` for the placed pods, nodes in parallel and one pod at a time per node (as each kubelet would). */
async function perNode(pods: readonly LabPod[], fn: (pod: LabPod, node: LabNode) => Promise<void>): Promise<void> {
  await Promise.all(
    LAB_NODES.map(async (node) => {
      for (const pod of pods) if (pod.node === node) await fn(pod, node);
    }),
  );
}

