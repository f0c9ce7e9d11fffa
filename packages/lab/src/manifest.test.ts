import { describe, expect, it } from 'vitest';
import { DEFAULT_MANIFESTS } from './paths.ts';
import { loadManifests, ManifestError, parseManifest } from './manifest.ts';

const deployment = (containerLines: string) => `
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
${containerLines}
`;

describe('parseManifest', () => {
  it('reads the shipped connectivity-check and kube-dns manifests', () => {
    const m = loadManifests(DEFAULT_MANIFESTS);
    const names = m.workloads.map((w) => w.name);
    expect(names).toContain('echo-a');
    expect(names).toContain('pod-to-b-multi-node-nodeport');
    expect(names).toContain('coredns');
    expect(m.workloads.filter((w) => w.namespace === 'default')).toHaveLength(15);
    expect(m.policies.map((p) => p.metadata.name).sort()).toEqual([
      'pod-to-a-allowed-cnp',
      'pod-to-a-l3-denied-cnp',
      'pod-to-external-fqdn-allow-google-cnp',
    ]);
    expect(m.services.find((s) => s.metadata?.name === 'echo-b')?.spec?.ports?.[0]?.nodePort).toBe(31414);
  });

  it('keeps every policy kind for the KubeStore, a clusterwide one without a namespace', () => {
    const m = parseManifest(
      `apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: { name: all }
spec: { endpointSelector: {} }
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: np }
spec: { podSelector: {} }
`,
      'policies.yaml',
    );
    expect(m.policies.map((p) => [p.kind, p.metadata.namespace, p.metadata.name, p.file])).toEqual([
      ['CiliumClusterwideNetworkPolicy', undefined, 'all', 'policies.yaml'],
      ['NetworkPolicy', 'default', 'np', 'policies.yaml'],
    ]);
  });

  it('defaults the namespace to default and replicas to 1', () => {
    const m = parseManifest(deployment('        - { name: c, image: nginx }'), 'web.yaml');
    expect(m.workloads[0]).toMatchObject({ kind: 'Deployment', namespace: 'default', name: 'web', replicas: 1 });
  });

  it('skips empty documents and comment-only documents', () => {
    const m = parseManifest(`# header\n---\n${deployment('        - { name: c, image: nginx }')}\n---\n# trailing\n`, 'web.yaml');
    expect(m.workloads).toHaveLength(1);
  });

  it('names the file, object and field of a wrongly typed field', () => {
    const text = deployment('        - { name: c, image: nginx, ports: [{ containerPort: "80" }] }');
    expect(() => parseManifest(text, 'web.yaml')).toThrow(
      /^web\.yaml: Deployment default\/web: spec\.template\.spec\.containers\[0\]\.ports\[0\]\.containerPort: /,
    );
  });

  it('rejects a missing image', () => {
    expect(() => parseManifest(deployment('        - { name: c }'), 'web.yaml')).toThrow(ManifestError);
    expect(() => parseManifest(deployment('        - { name: c }'), 'web.yaml')).toThrow(/containers\[0\]\.image/);
  });

  it('rejects a selector that does not match the template labels', () => {
    const text = deployment('        - { name: c, image: nginx }').replace('matchLabels: { app: web }', 'matchLabels: { app: api }');
    expect(() => parseManifest(text, 'web.yaml')).toThrow(/spec\.selector\.matchLabels: selects app=api/);
  });

  it('rejects an affinity topologyKey other than the node hostname', () => {
    const text = deployment(`        - { name: c, image: nginx }
      affinity:
        podAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            - { labelSelector: { matchLabels: { app: db } }, topologyKey: topology.kubernetes.io/zone }`);
    expect(() => parseManifest(text, 'web.yaml')).toThrow(/requiredDuringSchedulingIgnoredDuringExecution\[0\]\.topologyKey/);
  });

  it('reports invalid YAML with the file and document number', () => {
    expect(() => parseManifest('apiVersion: v1\nkind: Namespace\nmetadata: { name: a }\n---\nmetadata: [unclosed\n', 'bad.yaml')).toThrow(/^bad\.yaml: document 2: invalid YAML/);
  });

  it('keeps kinds it does not run aside instead of failing', () => {
    const m = parseManifest('apiVersion: v1\nkind: ServiceAccount\nmetadata: { name: sa }\n', 'sa.yaml');
    expect(m.ignored).toEqual([{ file: 'sa.yaml', kind: 'ServiceAccount', name: 'sa' }]);
  });
});
