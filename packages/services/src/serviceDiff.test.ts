import { describe, expect, it } from 'vitest';
import { diffServiceModels } from './serviceDiff.ts';
import { buildServiceModel, type ServiceModel } from './serviceModel.ts';
import { labNodes, labPod, seedPods, seedServices, withSlices } from './testObjects.ts';

const build = (pods = seedPods(), previous?: ServiceModel, services = seedServices()) =>
  buildServiceModel(withSlices({ services, pods, nodes: labNodes }), previous ? { previous } : {});

describe('diffServiceModels', () => {
  it('reports nothing between two builds of the same objects', () => {
    const before = build();
    expect(diffServiceModels(before, build(seedPods(), before))).toEqual({
      frontends: { added: [], updated: [], removed: [] },
      backends: { added: [], removed: [] },
    });
  });

  it("updates echo-b's frontends (its ClusterIP, NodePorts) and adds a backend when another echo-b pod turns ready", () => {
    const before = build();
    const extra = labPod('echo-b-2', { labels: { name: 'echo-b' }, node: 'tycho-node-1', ip: '10.244.0.41', ports: [{ containerPort: 8080 }] });
    const after = build([...seedPods(), extra], before);
    const diff = diffServiceModels(before, after);
    expect(diff.frontends.added).toEqual([]);
    expect(diff.frontends.removed).toEqual([]);
    expect(diff.frontends.updated.map((u) => `${u.after.type} ${u.after.address}`)).toEqual(
      before.frontends.filter((f) => f.serviceName === 'echo-b').map((f) => `${f.type} ${f.address}`),
    );
    expect(diff.frontends.updated[0]?.after.backends.map((b) => b.address)).toEqual(['10.244.0.41', '10.244.1.12']);
    expect(diff.backends.added.map((b) => `${b.address}:${b.port}`)).toEqual(['10.244.0.41:8080']);
  });

  it('removes the frontends of a deleted service and the backends only it used', () => {
    const before = build();
    const after = build(seedPods(), before, seedServices().filter((s) => s.metadata?.name !== 'kube-dns'));
    const diff = diffServiceModels(before, after);
    expect(diff.frontends.removed.map((f) => `${f.address}:${f.port}/${f.protocol}`)).toEqual(['10.96.0.10:53/UDP', '10.96.0.10:53/TCP']);
    expect(diff.backends.removed).toHaveLength(4);
    expect(diff.frontends.updated).toEqual([]);
  });
});
