// The real kubectl clients installed on the machine are the judge of the protocol: each one is run
// against the lab API server double and what it prints, and what it changed in the store, is checked.
// Every kubectl.1.<minor> in the Google Cloud SDK's bin folder is tested, plus `kubectl` on the PATH;
// the full command set runs on the PATH's kubectl and the oldest and newest of the matrix, a core
// set on the others.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createLabApiServer, type LabApiServer } from './httpServer.ts';
import { isJsonObject } from './kubeObject.ts';
import { createObjectStore, type ObjectStore } from './objectStore.ts';
import { createResourceRegistry } from './resourceRegistry.ts';

const sdkBin = '/usr/lib/google-cloud-sdk/bin';
const crdDir = fileURLToPath(new URL('../crds/', import.meta.url));

interface Kubectl {
  label: string;
  path: string;
  minor: number;
}

function installedKubectls(): Kubectl[] {
  const found: Kubectl[] = [];
  if (existsSync(sdkBin)) {
    for (const file of readdirSync(sdkBin)) {
      const match = /^kubectl\.1\.(\d+)$/.exec(file);
      if (match) found.push({ label: `kubectl 1.${match[1]}`, path: join(sdkBin, file), minor: Number(match[1]) });
    }
  }
  found.sort((a, b) => a.minor - b.minor);
  const onPath = (process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'kubectl')).find((candidate) => existsSync(candidate));
  if (onPath) found.push({ label: `kubectl on PATH (${realpathSync(onPath)})`, path: onPath, minor: Number.NaN });
  return found;
}

const kubectls = installedKubectls();
const fullSet = new Set([kubectls[0]?.path, kubectls[kubectls.length - 2]?.path, kubectls[kubectls.length - 1]?.path]);

const workloads = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: echo
  labels: {app: echo}
spec:
  replicas: 1
  selector:
    matchLabels: {app: echo}
  template:
    metadata:
      labels: {app: echo}
    spec:
      containers:
      - name: echo
        image: docker.io/cilium/json-mock:1.2
        ports:
        - containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: echo
spec:
  selector: {app: echo}
  ports:
  - port: 8080
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: echo-config
data:
  greeting: hello
`;

const policy = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: allow-web
spec:
  endpointSelector:
    matchLabels: {app: echo}
  ingress:
  - fromEndpoints:
    - matchLabels: {app: client}
`;

interface Lab {
  store: ObjectStore;
  server: LabApiServer;
  dir: string;
  run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  spawnKubectl(...args: string[]): { output: () => string; stop: () => void };
}

async function startLab(kubectl: Kubectl): Promise<Lab> {
  const store = createObjectStore({ registry: createResourceRegistry() });
  const server = createLabApiServer({ store, log: () => {} });
  const address = await server.listen(0, '127.0.0.1');
  const dir = mkdtempSync(join(tmpdir(), 'lab-apiserver-kubectl-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: lab',
      '  cluster:',
      `    server: http://127.0.0.1:${address.port}`,
      'contexts:',
      '- name: lab',
      '  context: {cluster: lab, user: lab, namespace: default}',
      'users:',
      '- name: lab',
      '  user: {}',
      'current-context: lab',
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'workloads.yaml'), workloads);
  writeFileSync(join(dir, 'policy.yaml'), policy);
  const baseArgs = ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache')];
  const env = { ...process.env, HOME: dir, KUBECONFIG: '' };
  const run = (...args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(kubectl.path, [...baseArgs, ...args], { env, cwd: dir, timeout: 20_000 }, (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      });
    });
  const spawnKubectl = (...args: string[]) => {
    const child = spawn(kubectl.path, [...baseArgs, ...args], { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    return { output: () => output, stop: () => child.kill('SIGTERM') };
  };
  return { store, server, dir, run, spawnKubectl };
}

async function eventually(what: string, check: () => boolean): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function lines(text: string): string[] {
  return text.trim().split('\n');
}

/** A table row as kubectl prints it: cells separated by two or more spaces. */
function cells(line: string | undefined): string[] {
  return (line ?? '').trim().split(/\s{2,}/);
}

function resource(lab: Lab, group: string, plural: string) {
  const found = lab.store.registry.all().find((candidate) => candidate.group === group && candidate.plural === plural);
  if (!found) throw new Error(`${plural}.${group} is not served`);
  return found;
}

it('finds installed kubectl clients to test against', () => {
  expect(kubectls.length).toBeGreaterThan(0);
});

describe.each(kubectls)('$label against the lab API server', (kubectl) => {
  let lab: Lab;
  // The core set runs on every version; the rest only where the full set does (see the top).
  const fullOnly = (name: string, test: () => Promise<void>) => {
    if (fullSet.has(kubectl.path)) it(name, test);
  };

  beforeAll(async () => {
    lab = await startLab(kubectl);
  });

  afterAll(async () => {
    await lab.server.close();
    rmSync(lab.dir, { recursive: true, force: true });
  });

  it('prints the double\'s server version', async () => {
    const result = await lab.run('version');
    // kubectl 1.27 prints the whole version.Info, later ones only the gitVersion.
    expect(result.stdout).toMatch(/Server Version: .*v1\.32\.0-tycho-lab/);
  });

  it('applies a Deployment, a Service and a ConfigMap from one file, then reports them unchanged', async () => {
    const created = await lab.run('apply', '-f', 'workloads.yaml');
    expect(created.stderr).toBe('');
    expect(lines(created.stdout)).toEqual(['deployment.apps/echo created', 'service/echo created', 'configmap/echo-config created']);
    expect(lab.store.get(resource(lab, 'apps', 'deployments'), 'default', 'echo').metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration']).toBeDefined();
    expect(lab.store.get(resource(lab, '', 'configmaps'), 'default', 'echo-config').data).toEqual({ greeting: 'hello' });
    const again = await lab.run('apply', '-f', 'workloads.yaml');
    expect(lines(again.stdout)).toEqual(['deployment.apps/echo unchanged', 'service/echo unchanged', 'configmap/echo-config unchanged']);
  });

  it('prints deployments with Kubernetes\' columns', async () => {
    const result = await lab.run('get', 'deploy');
    const [header, row] = lines(result.stdout);
    expect(cells(header)).toEqual(['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE']);
    expect(cells(row).slice(0, 4)).toEqual(['echo', '0/1', '0', '0']);
  });

  it('scales a deployment through its scale subresource', async () => {
    const result = await lab.run('scale', 'deploy/echo', '--replicas=3');
    expect(result.stdout.trim()).toBe('deployment.apps/echo scaled');
    expect(lab.store.get(resource(lab, 'apps', 'deployments'), 'default', 'echo').spec).toMatchObject({ replicas: 3 });
  });

  it('patches with a strategic merge patch that merges containers by name', async () => {
    const result = await lab.run('patch', 'deploy', 'echo', '--type', 'strategic', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox"}]}}}}');
    expect(result.stdout.trim()).toBe('deployment.apps/echo patched');
    const template = lab.store.get(resource(lab, 'apps', 'deployments'), 'default', 'echo').spec as { template: { spec: { containers: { name: string }[] } } };
    expect(template.template.spec.containers.map((container) => container.name)).toEqual(['echo', 'sidecar']);
  });

  it('creates with kubectl\'s generators (protobuf bodies from kubectl 1.32 on)', async () => {
    expect((await lab.run('create', 'namespace', 'team')).stdout.trim()).toBe('namespace/team created');
    expect((await lab.run('create', 'configmap', 'settings', '--from-literal=a=1')).stdout.trim()).toBe('configmap/settings created');
    expect((await lab.run('create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=2', '-n', 'team')).stdout.trim()).toBe('deployment.apps/web created');
    expect((await lab.run('create', 'service', 'clusterip', 'web', '--tcp=80:8080', '-n', 'team')).stdout.trim()).toBe('service/web created');
    expect(lab.store.get(resource(lab, '', 'configmaps'), 'default', 'settings').data).toEqual({ a: '1' });
    expect(lab.store.get(resource(lab, 'apps', 'deployments'), 'team', 'web').spec).toMatchObject({ replicas: 2, selector: { matchLabels: { app: 'web' } } });
    expect(lab.store.get(resource(lab, '', 'services'), 'team', 'web').spec).toMatchObject({ ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] });
    expect((await lab.run('delete', 'namespace', 'team')).stdout.trim()).toBe('namespace "team" deleted');
    expect(lab.store.tryGet(resource(lab, 'apps', 'deployments'), 'team', 'web')).toBeUndefined();
  });

  it('applies server-side and records kubectl as an Apply manager', async () => {
    const result = await lab.run('apply', '--server-side', '-f', 'workloads.yaml');
    expect(lines(result.stdout)).toEqual(['deployment.apps/echo serverside-applied', 'service/echo serverside-applied', 'configmap/echo-config serverside-applied']);
    const managers = lab.store.get(resource(lab, '', 'configmaps'), 'default', 'echo-config').metadata.managedFields ?? [];
    expect(managers).toContainEqual(expect.objectContaining({ manager: 'kubectl', operation: 'Apply' }));
  });

  fullOnly('prints pods -o wide with IP and NODE', async () => {
    const pods = resource(lab, '', 'pods');
    const created = lab.store.create(pods, 'default', { metadata: { name: 'web' }, spec: { nodeName: 'tycho-node-1', containers: [{ name: 'web', image: 'echo' }] } });
    lab.store.update(pods, 'default', 'web', { ...created, status: { phase: 'Running', podIP: '10.244.0.5', containerStatuses: [{ name: 'web', ready: true, restartCount: 2 }] } }, { subresource: 'status' });
    const [header, row] = lines((await lab.run('get', 'pods', '-o', 'wide')).stdout);
    expect(cells(header)).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES']);
    const [name, ready, status, restarts, , ip, node] = cells(row);
    expect([name, ready, status, restarts, ip, node]).toEqual(['web', '1/1', 'Running', '2', '10.244.0.5', 'tycho-node-1']);
  });

  fullOnly('prints an object as JSON and YAML', async () => {
    const json: unknown = JSON.parse((await lab.run('get', 'deploy', 'echo', '-o', 'json')).stdout);
    expect(json).toMatchObject({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'echo', namespace: 'default' } });
    const yamlText = (await lab.run('get', 'svc', 'echo', '-o', 'yaml')).stdout;
    expect(yamlText).toContain('kind: Service');
    expect(yamlText).toMatch(/clusterIP: 10\.96\.\d+\.\d+/);
  });

  fullOnly('labels and annotates', async () => {
    expect((await lab.run('label', 'deploy', 'echo', 'tier=web')).stdout.trim()).toBe('deployment.apps/echo labeled');
    // kubectl 1.27 says "annotate", later ones "annotated".
    expect((await lab.run('annotate', 'deploy', 'echo', 'owner=lab')).stdout.trim()).toMatch(/^deployment\.apps\/echo annotated?$/);
    const metadata = lab.store.get(resource(lab, 'apps', 'deployments'), 'default', 'echo').metadata;
    expect(metadata.labels).toMatchObject({ tier: 'web' });
    expect(metadata.annotations).toMatchObject({ owner: 'lab' });
    const selected = await lab.run('get', 'deploy', '-l', 'tier=web', '-o', 'name');
    expect(selected.stdout.trim()).toBe('deployment.apps/echo');
  });

  fullOnly('patches with merge and JSON patches', async () => {
    expect((await lab.run('patch', 'deploy', 'echo', '--type', 'merge', '-p', '{"spec":{"replicas":2}}')).stdout.trim()).toBe('deployment.apps/echo patched');
    expect(lab.store.get(resource(lab, 'apps', 'deployments'), 'default', 'echo').spec).toMatchObject({ replicas: 2 });
    expect((await lab.run('patch', 'deploy', 'echo', '--type', 'json', '-p', '[{"op":"replace","path":"/spec/replicas","value":4}]')).stdout.trim()).toBe('deployment.apps/echo patched');
    expect(lab.store.get(resource(lab, 'apps', 'deployments'), 'default', 'echo').spec).toMatchObject({ replicas: 4 });
  });

  fullOnly('creates from a file, and says AlreadyExists and NotFound as Kubernetes does', async () => {
    writeFileSync(join(lab.dir, 'made.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: made}\ndata: {a: "1"}\n');
    expect((await lab.run('create', '-f', 'made.yaml')).stdout.trim()).toBe('configmap/made created');
    const again = await lab.run('create', '-f', 'made.yaml');
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('Error from server (AlreadyExists): error when creating "made.yaml": configmaps "made" already exists');
    const missing = await lab.run('get', 'pod', 'missing');
    expect(missing.stderr).toContain('Error from server (NotFound): pods "missing" not found');
  });

  fullOnly('follows changes with get -w', async () => {
    const watch = lab.spawnKubectl('get', 'configmaps', '-w');
    try {
      await eventually('the initial list', () => watch.output().includes('echo-config'));
      lab.store.create(resource(lab, '', 'configmaps'), 'default', { metadata: { name: 'watched' }, data: { a: '1' } });
      await eventually('the watched configmap', () => watch.output().includes('watched'));
      expect(cells(lines(watch.output())[0])).toEqual(['NAME', 'DATA', 'AGE']);
      expect(cells(lines(watch.output()).find((line) => line.startsWith('watched ')))[1]).toBe('1');
    } finally {
      watch.stop();
    }
  });

  fullOnly('prints namespaces and the served resources', async () => {
    const namespaces = lines((await lab.run('get', 'ns')).stdout);
    expect(cells(namespaces[0])).toEqual(['NAME', 'STATUS', 'AGE']);
    expect(namespaces.map((line) => cells(line).slice(0, 2).join(' '))).toEqual(expect.arrayContaining(['default Active', 'kube-system Active']));
    const resources = lines((await lab.run('api-resources')).stdout).map(cells);
    expect(resources).toContainEqual(['deployments', 'deploy', 'apps/v1', 'true', 'Deployment']);
    expect(resources).toContainEqual(['nodes', 'no', 'v1', 'false', 'Node']);
  });

  fullOnly('serves Cilium\'s policies once their CRDs are applied, and prints them with kubectl get cnp', async () => {
    const crds = await lab.run('apply', '-f', crdDir);
    expect(lines(crds.stdout)).toEqual([
      'customresourcedefinition.apiextensions.k8s.io/ciliumclusterwidenetworkpolicies.cilium.io created',
      'customresourcedefinition.apiextensions.k8s.io/ciliumidentities.cilium.io created',
      'customresourcedefinition.apiextensions.k8s.io/ciliumnetworkpolicies.cilium.io created',
    ]);
    expect((await lab.run('apply', '-f', 'policy.yaml')).stdout.trim()).toBe('ciliumnetworkpolicy.cilium.io/allow-web created');
    expect((await lab.run('apply', '-f', 'policy.yaml')).stdout.trim()).toBe('ciliumnetworkpolicy.cilium.io/allow-web unchanged');
    const [header, row] = lines((await lab.run('get', 'cnp')).stdout);
    expect(cells(header)).toEqual(['NAME', 'AGE', 'VALID']);
    expect(cells(row)[0]).toBe('allow-web');
    const stored = lab.store.get(resource(lab, 'cilium.io', 'ciliumnetworkpolicies'), 'default', 'allow-web');
    expect(isJsonObject(stored.spec) && stored.spec.endpointSelector).toEqual({ matchLabels: { app: 'echo' } });
    const served = lines((await lab.run('api-resources', '--api-group', 'cilium.io')).stdout).map(cells);
    expect(served).toContainEqual(['ciliumnetworkpolicies', 'cnp,ciliumnp', 'cilium.io/v2', 'true', 'CiliumNetworkPolicy']);
    expect((await lab.run('delete', '-f', 'policy.yaml')).stdout.trim()).toBe('ciliumnetworkpolicy.cilium.io "allow-web" deleted');
  });

  it('deletes what it applied', async () => {
    const result = await lab.run('delete', '-f', 'workloads.yaml');
    expect(lines(result.stdout)).toEqual(['deployment.apps "echo" deleted', 'service "echo" deleted', 'configmap "echo-config" deleted']);
    expect(lab.store.tryGet(resource(lab, 'apps', 'deployments'), 'default', 'echo')).toBeUndefined();
    expect((await lab.run('get', 'deploy')).stderr.trim()).toBe('No resources found in default namespace.');
  });
});
