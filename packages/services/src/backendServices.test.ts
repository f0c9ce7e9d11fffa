import { describe, expect, it } from 'vitest';
import { BackendServiceIndex } from './backendServices.ts';
import { buildServiceModel } from './serviceModel.ts';
import { labNodes, labPod, seedPods, seedServices, svc, withSlices } from './testObjects.ts';

describe('BackendServiceIndex', () => {
  const model = buildServiceModel(withSlices({ services: seedServices(), pods: seedPods(), nodes: labNodes }));
  const index = new BackendServiceIndex(model);

  it('names the service whose frontends have the backend, per port and protocol', () => {
    expect(index.serviceOf('10.244.0.12', 8080, 'TCP')).toEqual({ name: 'echo-a', namespace: 'default' });
    expect(index.serviceOf('10.244.1.12', 8080, 'TCP')).toEqual({ name: 'echo-b', namespace: 'default' });
    const dns = model.frontends.find((f) => f.serviceName === 'kube-dns' && f.protocol === 'UDP')?.backends[0];
    expect(dns && index.serviceOf(dns.address, 53, 'UDP')).toEqual({ name: 'kube-dns', namespace: 'kube-system' });
  });

  it('names nothing for another port, another protocol or an address that is no backend', () => {
    expect(index.serviceOf('10.244.0.12', 8081, 'TCP')).toBeUndefined();
    expect(index.serviceOf('10.244.0.12', 8080, 'UDP')).toBeUndefined();
    expect(index.serviceOf('198.51.100.14', 80, 'TCP')).toBeUndefined();
  });

  it('names nothing for a backend two services share', () => {
    const pod = labPod('shared-1', { labels: { app: 'shared' }, ip: '10.244.0.40', node: 'tycho-node-1', ports: [{ containerPort: 8080 }] });
    const shared = buildServiceModel(withSlices({
      services: [
        svc('one', { selector: { app: 'shared' }, ports: [{ port: 80, targetPort: 8080 }] }),
        svc('two', { selector: { app: 'shared' }, ports: [{ port: 81, targetPort: 8080 }] }),
      ],
      pods: [pod],
      nodes: labNodes,
    }));
    expect(new BackendServiceIndex(shared).serviceOf('10.244.0.40', 8080, 'TCP')).toBeUndefined();
  });
});
