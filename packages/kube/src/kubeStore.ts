import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { V1Namespace, V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import { PolicyCollection } from './policyCollection.ts';

/**
 * The cluster state Tycho reads from the Kubernetes API server: pods, nodes
 * and services. In a cluster it is backed by a watch on the API server; in
 * the lab, where no API server can run, by `DirectoryKubeStore`, a stand-in
 * that keeps each object as a JSON file under one directory.
 */
export interface KubeStore {
  listPods(): V1Pod[];
  listNodes(): V1Node[];
  listServices(): V1Service[];
}

export type KubeKind = 'pods' | 'nodes' | 'services' | 'namespaces';

/**
 * Stand-in for the Kubernetes API server (a test double: there is no API
 * server on the lab machine). Objects live at `<root>/<kind>/<namespace>/<name>.json`
 * (nodes under `<root>/nodes/_/<name>.json`). Writes are atomic renames, so a
 * reader in another process never sees half an object. Namespaces live under
 * `<root>/namespaces/_/<name>.json`; network policies are one collection
 * written all-or-nothing (`policies`, see PolicyCollection).
 */
export class DirectoryKubeStore implements KubeStore {
  /** CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy and NetworkPolicy objects. */
  readonly policies: PolicyCollection;

  constructor(readonly root: string) {
    this.policies = new PolicyCollection(root);
  }

  put(kind: KubeKind, object: V1Pod | V1Node | V1Service | V1Namespace): void {
    const name = object.metadata?.name;
    if (!name) throw new Error(`kube store: a ${kind} object needs metadata.name`);
    const dir = join(this.root, kind, kind === 'namespaces' ? '_' : (object.metadata?.namespace ?? '_'));
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${name}.json`);
    writeFileSync(`${file}.tmp`, JSON.stringify(object));
    renameSync(`${file}.tmp`, file);
  }

  delete(kind: KubeKind, namespace: string | undefined, name: string): void {
    rmSync(join(this.root, kind, namespace ?? '_', `${name}.json`), { force: true });
  }

  listPods(): V1Pod[] {
    return this.list<V1Pod>('pods');
  }

  listNodes(): V1Node[] {
    return this.list<V1Node>('nodes');
  }

  listServices(): V1Service[] {
    return this.list<V1Service>('services');
  }

  /** Namespace objects written to the store (the lab writes none; pods' namespaces need not be here). */
  listNamespaces(): V1Namespace[] {
    return this.list<V1Namespace>('namespaces');
  }

  getPod(namespace: string, name: string): V1Pod | undefined {
    return this.readObject<V1Pod>(join(this.root, 'pods', namespace, `${name}.json`));
  }

  private list<T>(kind: KubeKind): T[] {
    const base = join(this.root, kind);
    if (!existsSync(base)) return [];
    const out: T[] = [];
    for (const ns of readdirSync(base)) {
      for (const file of readdirSync(join(base, ns))) {
        if (!file.endsWith('.json')) continue;
        const object = this.readObject<T>(join(base, ns, file));
        if (object) out.push(object);
      }
    }
    return out;
  }

  private readObject<T>(file: string): T | undefined {
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as T;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new Error(`kube store: cannot read ${file}: ${(err as Error).message}`);
    }
  }
}
