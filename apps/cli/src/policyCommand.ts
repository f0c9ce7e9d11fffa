import { existsSync, readFileSync } from 'node:fs';
import type { KubernetesObject, KubernetesObjectApi } from '@kubernetes/client-node';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { dump } from 'js-yaml';
import { loadKubeConfig } from '@tycho/kube';
import { parsePolicies, type Policy, type PolicyKind, type PolicyRef, policyObjectsFromText, policyRefName } from '@tycho/policy';
import type { ObserveIo } from './observeCommand.ts';

/** The running lab's kubeconfig (packages/lab paths.ts KUBECONFIG_FILE). */
export const LAB_KUBECONFIG = '/run/tycho/lab/kubeconfig';

interface PolicyBatch {
  readonly file: string;
  readonly objects: readonly unknown[];
}

/** Kind names and the short names kubectl and cilium know them by. */
const KIND_NAMES: Readonly<Record<string, PolicyKind>> = {
  ciliumnetworkpolicy: 'CiliumNetworkPolicy',
  ciliumnetworkpolicies: 'CiliumNetworkPolicy',
  cnp: 'CiliumNetworkPolicy',
  ciliumclusterwidenetworkpolicy: 'CiliumClusterwideNetworkPolicy',
  ciliumclusterwidenetworkpolicies: 'CiliumClusterwideNetworkPolicy',
  ccnp: 'CiliumClusterwideNetworkPolicy',
  networkpolicy: 'NetworkPolicy',
  networkpolicies: 'NetworkPolicy',
  netpol: 'NetworkPolicy',
};

const REF_FORMS = 'KIND/NAMESPACE/NAME, KIND/NAME (namespace default) or ccnp/NAME; KIND is cnp, ccnp, netpol or the full kind';

/** `cnp/default/x`, `NetworkPolicy/x` (namespace default), `ccnp/x` → a reference; throws saying what is expected. */
export function parsePolicyRef(text: string): PolicyRef {
  const parts = text.split('/');
  const kind = KIND_NAMES[(parts[0] ?? '').toLowerCase()];
  if (!kind) throw new Error(`'${text}': unknown kind '${parts[0] ?? ''}'; expected ${REF_FORMS}`);
  const clusterwide = kind === 'CiliumClusterwideNetworkPolicy';
  const [namespace, name] = clusterwide ? ['', parts[1]] : parts.length === 2 ? ['default', parts[1]] : [parts[1], parts[2]];
  if (parts.length > (clusterwide ? 2 : 3) || !name || namespace === undefined || (!clusterwide && !namespace)) {
    throw new Error(`'${text}': expected ${REF_FORMS}`);
  }
  return { kind, namespace, name };
}

function describeRef(ref: PolicyRef): string {
  return `${ref.kind} ${policyRefName(ref)}`;
}

/** Where each policy kind is served. */
const API_VERSIONS: Readonly<Record<PolicyKind, string>> = {
  CiliumNetworkPolicy: 'cilium.io/v2',
  CiliumClusterwideNetworkPolicy: 'cilium.io/v2',
  NetworkPolicy: 'networking.k8s.io/v1',
};
const POLICY_KINDS = Object.keys(API_VERSIONS) as PolicyKind[];

/**
 * The Kubernetes API the policies live in: --kubeconfig, else $KUBECONFIG,
 * else the running lab's kubeconfig; a clear error when there is none.
 */
async function connect(kubeconfig: string | undefined): Promise<KubernetesObjectApi> {
  if (kubeconfig === undefined && !process.env.KUBECONFIG && !existsSync(LAB_KUBECONFIG)) {
    throw new Error(`no lab is running: ${LAB_KUBECONFIG} does not exist (start the lab with tycho lab up, or pass --kubeconfig or set KUBECONFIG)`);
  }
  const sources = kubeconfig !== undefined ? { kubeconfigPath: kubeconfig } : process.env.KUBECONFIG ? {} : { kubeconfigPath: LAB_KUBECONFIG };
  const [{ kubeConfig }, { KubernetesObjectApi }] = await Promise.all([loadKubeConfig(sources), import('@kubernetes/client-node')]);
  return KubernetesObjectApi.makeApiClient(kubeConfig);
}

/** client-node's ApiException (its HTTP status and body), told by shape: the class is loaded only when a command connects. */
function apiException(error: unknown): { code: number; body: unknown } | undefined {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'number' && 'body' in error ? (error as unknown as { code: number; body: unknown }) : undefined;
}

/** What the API server said, in one line (its Status message when it sent one). */
function apiMessage(error: unknown): string {
  const exception = apiException(error);
  if (!exception) return (error as Error).message;
  try {
    const status = JSON.parse(String(exception.body)) as { message?: unknown };
    if (typeof status.message === 'string') return `${status.message} (${exception.code})`;
  } catch {
    // not a Status body: the code says enough
  }
  return `the API server answered ${exception.code}`;
}

function isNotFound(error: unknown): boolean {
  return apiException(error)?.code === 404;
}

function header(ref: PolicyRef): KubernetesObject {
  return { apiVersion: API_VERSIONS[ref.kind], kind: ref.kind, metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) } };
}

async function readPolicy(api: KubernetesObjectApi, ref: PolicyRef): Promise<KubernetesObject | undefined> {
  try {
    return await api.read(header(ref) as KubernetesObject & { metadata: { name: string } });
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw new Error(`cannot read ${describeRef(ref)} from the Kubernetes API: ${apiMessage(error)}`);
  }
}

/** The object as written: the file's, with the namespace it is applied to. */
function appliedObject(policy: Policy): KubernetesObject {
  const source = policy.source as KubernetesObject;
  return policy.ref.namespace ? { ...source, metadata: { ...source.metadata, namespace: policy.ref.namespace } } : source;
}

/** JSON with sorted keys and no undefined fields, so two readings of one object compare equal. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, field: unknown) =>
    field !== null && typeof field === 'object' && !Array.isArray(field) && !(field instanceof Date)
      ? Object.fromEntries(Object.entries(field).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : field,
  );
}

/** What `apply` compares to tell configured from unchanged: labels, annotations and everything but metadata and status, as the API stores them. */
function appliedContent(object: KubernetesObject): string {
  const { metadata, apiVersion: _apiVersion, kind: _kind, status: _status, ...rest } = object as KubernetesObject & Record<string, unknown>;
  return canonicalJson({ labels: metadata?.labels ?? {}, annotations: metadata?.annotations ?? {}, ...rest });
}

/** Plain JSON of an object client-node handed back (its typed models carry undefined fields and Dates), without managedFields, as kubectl prints it. */
function plain(object: KubernetesObject): KubernetesObject {
  const json = JSON.parse(JSON.stringify(object)) as KubernetesObject;
  delete json.metadata?.managedFields;
  return json;
}

/** Every policy of every kind, sorted by kind, namespace and name, and the API's resourceVersion read with them. */
async function listPolicies(api: KubernetesObjectApi): Promise<{ revision: number; items: KubernetesObject[] }> {
  let revision = 0;
  const items: KubernetesObject[] = [];
  for (const kind of POLICY_KINDS) {
    let list;
    try {
      list = await api.list(API_VERSIONS[kind], kind);
    } catch (error) {
      throw new Error(`cannot list ${kind} objects from the Kubernetes API: ${apiMessage(error)}`);
    }
    revision = Math.max(revision, Number(list.metadata?.resourceVersion ?? 0));
    items.push(...list.items.map((item) => ({ ...plain(item), apiVersion: API_VERSIONS[kind], kind })));
  }
  const key = (item: KubernetesObject) => `${POLICY_KINDS.indexOf(item.kind as PolicyKind)}/${item.metadata?.namespace ?? ''}/${item.metadata?.name ?? ''}`;
  return { revision, items: items.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0)) };
}

/** The API's resourceVersion after the writes (the `policy revision` line). */
async function revisionNow(api: KubernetesObjectApi): Promise<number> {
  return (await listPolicies(api)).revision;
}

/** A write that failed after earlier ones succeeded: says which were done and which were not. */
function partialFailure(what: string, failed: PolicyRef, error: unknown, done: readonly PolicyRef[], notDone: readonly PolicyRef[]): Error {
  return new Error(
    `${describeRef(failed)} was not ${what}: ${apiMessage(error)}; ` +
      `${done.length === 0 ? `nothing was ${what}` : `already ${what}: ${done.map(describeRef).join(', ')}`}` +
      `${notDone.length === 0 ? '' : `; not ${what}: ${notDone.map(describeRef).join(', ')}`}`,
  );
}

function readBatches(files: readonly string[]): PolicyBatch[] {
  return files.map((file) => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new Error(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    }
    return { file, objects: policyObjectsFromText(text, file) };
  });
}

function formatList(rows: readonly PolicyRef[]): string {
  const header = ['KIND', 'NAMESPACE', 'NAME'] as const;
  const cells = rows.map((ref): readonly string[] => [ref.kind, ref.namespace || '-', ref.name]);
  const widths = header.map((title, column) => Math.max(title.length, ...cells.map((row) => (row[column] ?? '').length)) + 3);
  const line = (row: readonly string[]) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0))).join('');
  return [line(header), ...cells.map(line)].join('\n');
}

const kubeconfigOption = () => new Option('--kubeconfig <file>', `the Kubernetes API's kubeconfig (default: $KUBECONFIG, else the running lab's ${LAB_KUBECONFIG})`);

/** `tycho policy apply|delete|list|get`. */
export function addPolicyCommand(program: Command, io: ObserveIo): void {
  const policy = program
    .command('policy')
    .description('manage network policies (CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy, NetworkPolicy) of the running lab')
    .addHelpText(
      'after',
      `
Policies live in the Kubernetes API (the lab's, or any --kubeconfig names); every
node's agent watches them and enforces each change within milliseconds (the
benchmark policyApplyLatency measures it). Every object is validated before
anything is written; \`policy revision\` is the API's resourceVersion afterwards.

Examples:
  tycho policy apply -f allow.yaml -f deny.yaml   all objects of both files, or none
  tycho policy list
  tycho policy get cnp/default/pod-to-a-allowed-cnp -o json
  tycho policy delete cnp/default/pod-to-a-allowed-cnp
  tycho policy delete -f allow.yaml`,
    );

  policy
    .command('apply')
    .description('create or replace the policies in the files; an invalid object is refused (file, object, path, reason) and nothing is applied')
    .requiredOption('-f, --filename <files...>', 'YAML or JSON files, several documents each (--- or kind: List)')
    .addOption(kubeconfigOption())
    .action(async (options: { filename: string[]; kubeconfig?: string }) => {
      const policies = readBatches(options.filename).flatMap((batch) => parsePolicies(batch.objects, { file: batch.file }));
      const api = await connect(options.kubeconfig);
      // Read everything first, so a missing namespace or an unreachable API writes nothing.
      const current = await Promise.all(policies.map((policy) => readPolicy(api, policy.ref)));
      const namespaces = [...new Set(policies.map((policy) => policy.ref.namespace).filter((namespace) => namespace !== ''))];
      for (const namespace of namespaces) {
        try {
          await api.read({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
        } catch (error) {
          const users = policies.filter((policy) => policy.ref.namespace === namespace).map((policy) => describeRef(policy.ref));
          throw new Error(isNotFound(error) ? `namespace ${namespace} does not exist (needed by ${users.join(', ')}); nothing was applied` : `cannot read namespace ${namespace}: ${apiMessage(error)}`);
        }
      }
      const done: PolicyRef[] = [];
      for (const [i, policy] of policies.entries()) {
        const object = appliedObject(policy);
        const before = current[i];
        let action: 'created' | 'configured' | 'unchanged';
        try {
          if (before === undefined) {
            await api.create(object);
            action = 'created';
          } else {
            // Replaced whole, at the version read: a change made since is a 409, not overwritten. A dry
            // run first says whether the API would store anything different (it fills in defaults).
            const replacement = { ...object, metadata: { ...object.metadata, resourceVersion: before.metadata?.resourceVersion } };
            const wouldStore = await api.replace(replacement, undefined, 'All');
            if (appliedContent(wouldStore) === appliedContent(before)) action = 'unchanged';
            else {
              await api.replace(replacement);
              action = 'configured';
            }
          }
        } catch (error) {
          throw partialFailure('applied', policy.ref, error, done, policies.slice(i + 1).map((later) => later.ref));
        }
        done.push(policy.ref);
        io.stdout(`${describeRef(policy.ref)} ${action}\n`);
      }
      io.stdout(`policy revision ${await revisionNow(api)}\n`);
    });

  policy
    .command('delete')
    .description('delete the policies named (KIND/NAMESPACE/NAME) or defined in the files; an unknown one is an error and nothing is deleted')
    .argument('[refs...]', REF_FORMS)
    .option('-f, --filename <files...>', 'delete the policies these files define')
    .addOption(kubeconfigOption())
    .action(async (refs: string[], options: { filename?: string[]; kubeconfig?: string }) => {
      if (refs.length === 0 && !options.filename) throw new Error('name the policies to delete (KIND/NAMESPACE/NAME) or pass -f FILE');
      const fromFiles = readBatches(options.filename ?? []).flatMap((batch) => parsePolicies(batch.objects, { file: batch.file }).map((parsed) => parsed.ref));
      const all = [...refs.map(parsePolicyRef), ...fromFiles];
      const api = await connect(options.kubeconfig);
      const current = await Promise.all(all.map((ref) => readPolicy(api, ref)));
      const missing = all.find((_ref, i) => current[i] === undefined);
      if (missing) throw new Error(`${describeRef(missing)}: not found`);
      const done: PolicyRef[] = [];
      for (const [i, ref] of all.entries()) {
        try {
          await api.delete(header(ref));
        } catch (error) {
          throw partialFailure('deleted', ref, error, done, all.slice(i + 1));
        }
        done.push(ref);
        io.stdout(`${describeRef(ref)} deleted\n`);
      }
      io.stdout(`policy revision ${await revisionNow(api)}\n`);
    });

  policy
    .command('list')
    .description('list the policies in force: KIND NAMESPACE NAME')
    .addOption(new Option('-o, --output <format>', 'table, or json ({revision, items} as the API holds them)').choices(['table', 'json']).default('table'))
    .addOption(kubeconfigOption())
    .action(async (options: { output: 'table' | 'json'; kubeconfig?: string }) => {
      const stored = await listPolicies(await connect(options.kubeconfig));
      if (options.output === 'json') {
        io.stdout(`${JSON.stringify(stored, null, 2)}\n`);
        return;
      }
      const refs = stored.items.map((item): PolicyRef => ({ kind: item.kind as PolicyKind, namespace: item.metadata?.namespace ?? '', name: item.metadata?.name ?? '' }));
      io.stdout(refs.length === 0 ? `No policies (revision ${stored.revision})\n` : `${formatList(refs)}\n`);
    });

  policy
    .command('get')
    .description('print one policy as applied')
    .argument('<ref>', REF_FORMS, (value: string) => {
      try {
        return parsePolicyRef(value);
      } catch (err) {
        throw new InvalidArgumentError((err as Error).message);
      }
    })
    .addOption(new Option('-o, --output <format>', 'yaml or json').choices(['yaml', 'json']).default('yaml'))
    .addOption(kubeconfigOption())
    .action(async (ref: PolicyRef, options: { output: 'yaml' | 'json'; kubeconfig?: string }) => {
      const read = await readPolicy(await connect(options.kubeconfig), ref);
      if (read === undefined) throw new Error(`${describeRef(ref)} not found; see tycho policy list`);
      const found = plain(read);
      io.stdout(options.output === 'json' ? `${JSON.stringify(found, null, 2)}\n` : dump(found, { noRefs: true, lineWidth: 120 }));
    });
}
