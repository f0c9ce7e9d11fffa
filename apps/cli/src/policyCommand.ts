import { existsSync, readFileSync } from 'node:fs';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { dump } from 'js-yaml';
import { DirectoryKubeStore, type PolicyBatch } from '@tycho/kube';
import { parsePolicies, parsePolicy, type PolicyKind, type PolicyRef, policyObjectsFromText, policyRefName } from '@tycho/policy';
import type { ObserveIo } from './observeCommand.ts';

/** The lab's stand-in for the API server (packages/lab paths.ts KUBE_DIR). */
export const DEFAULT_KUBE_DIR = '/run/tycho/lab/kube';

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

/** The running lab's store; a clear error when there is none. */
function openStore(kubeDir: string): DirectoryKubeStore {
  if (!existsSync(kubeDir)) {
    throw new Error(`no lab is running: the policy store ${kubeDir} does not exist (start the lab with tycho lab up, or pass --kube-dir)`);
  }
  return new DirectoryKubeStore(kubeDir);
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

const kubeDirOption = () => new Option('--kube-dir <dir>', 'the KubeStore holding the policies (the running lab\'s)').default(DEFAULT_KUBE_DIR);

/** `tycho policy apply|delete|list|get`. */
export function addPolicyCommand(program: Command, io: ObserveIo): void {
  const policy = program
    .command('policy')
    .description('manage network policies (CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy, NetworkPolicy) of the running lab')
    .addHelpText(
      'after',
      `
Policies live in the lab's stand-in for the Kubernetes API server; every node's
agent sees each change as it is written and enforces it within milliseconds (the
benchmark policyApplyLatency measures it; a 1 s poll catches anything missed).

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
    .addOption(kubeDirOption())
    .action((options: { filename: string[]; kubeDir: string }) => {
      const store = openStore(options.kubeDir);
      const result = store.policies.apply(readBatches(options.filename));
      for (const { ref, action } of result.results) io.stdout(`${describeRef(ref)} ${action}\n`);
      io.stdout(`policy revision ${result.revision}\n`);
    });

  policy
    .command('delete')
    .description('delete the policies named (KIND/NAMESPACE/NAME) or defined in the files; an unknown one is an error and nothing is deleted')
    .argument('[refs...]', REF_FORMS)
    .option('-f, --filename <files...>', 'delete the policies these files define')
    .addOption(kubeDirOption())
    .action((refs: string[], options: { filename?: string[]; kubeDir: string }) => {
      if (refs.length === 0 && !options.filename) throw new Error('name the policies to delete (KIND/NAMESPACE/NAME) or pass -f FILE');
      const fromFiles = readBatches(options.filename ?? []).flatMap((batch) =>
        parsePolicies(batch.objects, batch.file !== undefined ? { file: batch.file } : {}).map((parsed) => parsed.ref),
      );
      const all = [...refs.map(parsePolicyRef), ...fromFiles];
      const store = openStore(options.kubeDir);
      const revision = store.policies.delete(all);
      for (const ref of all) io.stdout(`${describeRef(ref)} deleted\n`);
      io.stdout(`policy revision ${revision}\n`);
    });

  policy
    .command('list')
    .description('list the policies in force: KIND NAMESPACE NAME')
    .addOption(new Option('-o, --output <format>', 'table, or json ({revision, items} as stored)').choices(['table', 'json']).default('table'))
    .addOption(kubeDirOption())
    .action((options: { output: 'table' | 'json'; kubeDir: string }) => {
      const stored = openStore(options.kubeDir).policies.read();
      if (options.output === 'json') {
        io.stdout(`${JSON.stringify(stored, null, 2)}\n`);
        return;
      }
      const refs = stored.items.map((item) => parsePolicy(item).ref);
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
    .addOption(kubeDirOption())
    .action((ref: PolicyRef, options: { output: 'yaml' | 'json'; kubeDir: string }) => {
      const stored = openStore(options.kubeDir).policies.read();
      const found = stored.items.find((item) => {
        const other = parsePolicy(item).ref;
        return other.kind === ref.kind && other.namespace === ref.namespace && other.name === ref.name;
      });
      if (found === undefined) throw new Error(`${describeRef(ref)} not found; see tycho policy list`);
      io.stdout(options.output === 'json' ? `${JSON.stringify(found, null, 2)}\n` : dump(found, { noRefs: true, lineWidth: 120 }));
    });
}
