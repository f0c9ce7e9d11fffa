import { CommanderError } from 'commander';
import { createProgram } from './program.ts';

const stop = new AbortController();
process.once('SIGINT', () => stop.abort());

const program = createProgram({
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  stopSignal: stop.signal,
});

try {
  await program.parseAsync(process.argv);
  process.exit(0);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  process.stderr.write(`tycho: ${(err as Error).message}\n`);
  process.exit(1);
}
