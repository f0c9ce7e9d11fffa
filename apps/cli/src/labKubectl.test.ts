import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Flow, GetFlowsResponse } from '@tycho/flow';
import { execInPod, KUBECONFIG_FILE, readLabState, type LabState } from '@tycho/lab';
import { kubectl, run, tycho } from './labTestSupport.ts';

/*
 * The lab is a Kubernetes cluster to the real kubectl: `tycho lab up` runs
 * the lab's API server double and writes every cluster object into it, so
 * kubectl (with the KUBECONFIG `lab up` prints) lists the nodes, pods,
 * services, endpoint slices and policies, and a CiliumNetworkPolicy applied
 * and deleted with kubectl is enforced and lifted by the eBPF datapath.
 */

/** The table's rows as column → cell, by the header's column starts (kubectl pads with spaces). */
function tableRows(text: string): Record<string, string>[] {
  const [header = '', ...lines] = text.split('\n').filter((line) => line.trim() !== '');
  const starts = [...header.matchAll(/\S+(?: \S+)*/g)].map((match) => ({ name: match[0], at: match.index }));
  return lines.map((line) =>
    Object.fromEntries(starts.map((column, i) => [column.name, line.slice(column.at, starts[i + 1]?.at ?? line.length).trim()])),
  );
}

const DENY_POLICY = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: kubectl-pod-to-a-only-to-echo-b
  namespace: default
spec:
  endpointSelector:
    matchLabels:
      name: pod-to-a
  egress:
    - toEndpoints:
        - matchLabels:
            name: echo-b
`;

describe('kubectl against the lab', () => {
  let state: LabState;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tycho-lab-kubectl-'));
    const up = await tycho(['lab', 'up', '--detach']);
    expect(up).toContain(`KUBECONFIG=${KUBECONFIG_FILE}\n`);
    expect(up).toContain('kubectl get pods -A');
    // Every pod ready (and so every EndpointSlice filled) before kubectl looks.
    const report = await tycho(['connectivity', 'test', '--timeout', '120'], 180_000);
    expect(report).toContain('All 15 checks passed');
    state = readLabState()!;
  }, 420_000);

  afterAll(async () => {
    await tycho(['lab', 'down']);
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('kubectl get nodes lists both lab nodes Ready', async () => {
    const rows = tableRows(await kubectl(['get', 'nodes']));
    expect(rows.map((row) => [row.NAME, row.STATUS])).toEqual([
      ['node-1', 'Ready'],
      ['node-2', 'Ready'],
    ]);
  });

  it('kubectl get pods -A -o wide lists every lab pod Running and ready, with its IP and node', async () => {
    const rows = tableRows(await kubectl(['get', 'pods', '-A', '-o', 'wide']));
    const listed = rows.map((row) => ({ namespace: row.NAMESPACE, name: row.NAME, ready: row.READY, status: row.STATUS, ip: row.IP, node: row.NODE }));
    const expected = state.pods.map((pod) => ({ namespace: pod.namespace, name: pod.name, ready: '1/1', status: 'Running', ip: pod.ip, node: pod.node }));
    const byKey = (a: { namespace?: string; name?: string }, b: { namespace?: string; name?: string }) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`);
    expect(listed.sort(byKey)).toEqual(expected.sort(byKey));
    expect(listed.map((pod) => pod.name)).toEqual(expect.arrayContaining([expect.stringMatching(/^echo-a-/), expect.stringMatching(/^pod-to-a-l3-denied-cnp-/)]));
  });

  it('kubectl get svc,endpointslices shows echo-a and echo-b with their ready pods as endpoints', async () => {
    const text = await kubectl(['get', 'svc,endpointslices']);
    const [services = '', slices = ''] = text.split(/\n\s*\n/);
    const serviceRows = tableRows(services);
    expect(serviceRows.find((row) => row.NAME === 'service/echo-a')).toMatchObject({ TYPE: 'ClusterIP', 'PORT(S)': '8080/TCP' });
    expect(serviceRows.find((row) => row.NAME === 'service/echo-b')).toMatchObject({ TYPE: 'NodePort', 'PORT(S)': '8080:31414/TCP' });
    const sliceRows = tableRows(slices);
    for (const name of ['echo-a', 'echo-b']) {
      const podIps = state.pods.filter((pod) => pod.owner === `Deployment/default/${name}`).map((pod) => pod.ip);
      expect(podIps).toHaveLength(1);
      const slice = sliceRows.find((row) => row.NAME?.startsWith(`endpointslice.discovery.k8s.io/${name}-`) && !row.NAME.includes('headless'));
      expect(slice).toMatchObject({ ADDRESSTYPE: 'IPv4', PORTS: '8080', ENDPOINTS: podIps.join(',') });
    }
  });

  it('kubectl get cnp lists the three seed policies', async () => {
    const rows = tableRows(await kubectl(['get', 'cnp']));
    expect(rows.map((row) => row.NAME).sort()).toEqual(['pod-to-a-allowed-cnp', 'pod-to-a-l3-denied-cnp', 'pod-to-external-fqdn-allow-google-cnp']);
  });

  it('a CiliumNetworkPolicy applied with kubectl drops in the datapath, and deleting it lifts the drop', async () => {
    const echoA = state.pods.find((pod) => pod.owner === 'Deployment/default/echo-a')!;
    const connect = async () => (await execInPod('default', 'pod-to-a', ['timeout', '3', 'bash', '-c', `exec 3<>/dev/tcp/${echoA.ip}/8080`])).code === 0;
    const until = async (what: string, condition: () => Promise<boolean>) => {
      const deadline = Date.now() + 30_000;
      while (!(await condition())) {
        if (Date.now() > deadline) throw new Error(`${what} within 30 s`);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    };
    expect(await connect()).toBe(true);
    const file = join(dir, 'policy.yaml');
    writeFileSync(file, DENY_POLICY);
    expect(await kubectl(['apply', '-f', file])).toBe('ciliumnetworkpolicy.cilium.io/kubectl-pod-to-a-only-to-echo-b created\n');
    try {
      await until('pod-to-a → echo-a was not dropped', async () => !(await connect()));
      const drops = (await tycho(['observe', '--verdict', 'DROPPED', '--to-ip', echoA.ip!, '-o', 'json'], 60_000))
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => (JSON.parse(line) as GetFlowsResponse).flow)
        .filter((flow): flow is Flow => flow?.egress_denied_by?.some((policy) => policy.name === 'kubectl-pod-to-a-only-to-echo-b') === true);
      expect(drops.length).toBeGreaterThan(0);
      expect(drops[0]).toMatchObject({ drop_reason_desc: 'POLICY_DENIED', l4: { TCP: { destination_port: 8080 } }, source: { namespace: 'default' } });
    } finally {
      expect(await kubectl(['delete', '-f', file])).toBe('ciliumnetworkpolicy.cilium.io "kubectl-pod-to-a-only-to-echo-b" deleted\n');
    }
    await until('pod-to-a → echo-a was not allowed again', connect);
    expect(tableRows(await kubectl(['get', 'cnp'])).map((row) => row.NAME)).not.toContain('kubectl-pod-to-a-only-to-echo-b');
  }, 120_000);

  it('the API server killed is restarted with the cluster as it was', async () => {
    const before = tableRows(await kubectl(['get', 'pods', '-A'])).map((row) => `${row.NAMESPACE}/${row.NAME}`);
    const pids = readFileSync('/sys/fs/cgroup/unified/tycho/apiserver/cgroup.procs', 'utf8').split('\n').filter((line) => line !== '').map(Number);
    expect(pids.length).toBeGreaterThan(0);
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    const deadline = Date.now() + 30_000;
    let after: string[] | undefined;
    while (!after) {
      after = await kubectl(['get', 'pods', '-A']).then(
        (text) => tableRows(text).map((row) => `${row.NAMESPACE}/${row.NAME}`),
        () => undefined,
      );
      if (!after && Date.now() > deadline) throw new Error('the API server did not come back within 30 s');
      if (!after) await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(after).toEqual(before);
    const restarted = readFileSync('/sys/fs/cgroup/unified/tycho/apiserver/cgroup.procs', 'utf8').split('\n').filter((line) => line !== '').map(Number);
    expect(restarted.some((pid) => pids.includes(pid))).toBe(false);
  }, 60_000);

  it('tycho lab down removes the kubeconfigs and stops the API server', async () => {
    await tycho(['lab', 'down']);
    expect(existsSync(KUBECONFIG_FILE)).toBe(false);
    expect(existsSync(KUBECONFIG_FILE.replace(/kubeconfig$/, 'kubeconfig-nodes'))).toBe(false);
    // A token, or kubectl asks for a username on stdin.
    const refused = await run('kubectl', ['--kubeconfig', '/dev/null', '--server', 'https://127.0.0.1:6443', '--insecure-skip-tls-verify', '--token', 'none', '--request-timeout', '3s', 'get', 'nodes'], { timeout: 30_000 }).then(
      () => 'answered',
      (error: { stderr?: string }) => error.stderr ?? '',
    );
    expect(refused).toMatch(/127\.0\.0\.1:6443 was refused/);
  }, 120_000);
});
