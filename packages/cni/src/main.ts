// tycho-cni entry point: read stdin and CNI_* variables, run one command, print its result or a CNI error.
import { addCommand } from './commands/add.ts';
import { checkCommand } from './commands/check.ts';
import { delCommand } from './commands/del.ts';
import { versionCommand } from './commands/version.ts';
import { CniError, CniErrorCode } from './cniError.ts';
import { parseEnvironment } from './environment.ts';
import { cniVersionForReply, parseNetConf } from './netconf.ts';

/** libcni's code for failures no well-known code describes. */
const internalErrorCode = 999;

async function readStdin(): Promise<string> {
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  } catch (error) {
    throw new CniError(CniErrorCode.ioFailure, 'could not read the network configuration from stdin', (error as Error).message);
  }
}

async function run(stdin: string): Promise<unknown> {
  const env = parseEnvironment(process.env);
  switch (env.command) {
    case 'VERSION':
      return versionCommand(stdin);
    case 'ADD':
      return addCommand(env, parseNetConf(stdin));
    case 'DEL':
      return delCommand(env, parseNetConf(stdin));
    case 'CHECK':
      return checkCommand(env, parseNetConf(stdin));
  }
}

let stdin = '';
try {
  stdin = await readStdin();
  const output = await run(stdin);
  if (output !== undefined) process.stdout.write(`${JSON.stringify(output)}\n`);
} catch (error) {
  const cniVersion = cniVersionForReply(stdin);
  const result =
    error instanceof CniError
      ? error.toResult(cniVersion)
      : { cniVersion, code: internalErrorCode, msg: 'internal error in tycho-cni', details: (error as Error).message ?? String(error) };
  if (!(error instanceof CniError)) process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exitCode = 1;
}
