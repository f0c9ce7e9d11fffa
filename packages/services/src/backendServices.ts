import type { L4Protocol } from './serviceSpec.ts';
import type { ServiceModel } from './serviceModel.ts';

/** A service as Hubble names it on a flow (`destination_service`, `source_service`). */
export interface ServiceName {
  readonly name: string;
  readonly namespace: string;
}

/**
 * Which service a backend address serves, for naming flows. With socket-level
 * load-balancing the packets carry the backend's address, never the VIP, so a
 * flow to `10.244.1.3:8080/TCP` is a flow to the service whose frontends have
 * that backend. A backend that two services share names neither (the packet
 * does not say which one the client asked for).
 */
export class BackendServiceIndex {
  private readonly byBackend = new Map<string, ServiceName | null>();

  constructor(model: Pick<ServiceModel, 'frontends'>) {
    for (const frontend of model.frontends) {
      const service = { name: frontend.serviceName, namespace: frontend.namespace };
      for (const backend of frontend.backends) {
        const key = backendIndexKey(backend.address, backend.port, backend.protocol);
        const known = this.byBackend.get(key);
        if (known === undefined) this.byBackend.set(key, service);
        else if (known && (known.name !== service.name || known.namespace !== service.namespace)) this.byBackend.set(key, null);
      }
    }
  }

  /** The one service with this backend, else undefined. */
  serviceOf(address: string, port: number, protocol: L4Protocol): ServiceName | undefined {
    return this.byBackend.get(backendIndexKey(address, port, protocol)) ?? undefined;
  }
}

function backendIndexKey(address: string, port: number, protocol: L4Protocol): string {
  return `${address}:${port}/${protocol}`;
}
