import { CommanderError } from 'commander';
import { createProgram } from './program.ts';
import { createStandardStream } from './standardStream.ts';

const stop = new AbortController();
process.once('SIGINT', () => stop.abort());
// A reader that went away (`| head -1`) stops the command as Ctrl-C does: nobody is reading.
const stdout = createStandardStream(process.stdout, () => stop.abort());
const stderr = createStandardStream(process.stderr, () => stop.abort());

const program = createProgram({ stdout: stdout.write, stderr: stderr.write, stopSignal: stop.signal });

async function run(): Promise<number> {
  try {
    await program.parseAsync(process.argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    stderr.write(`tycho: ${(err as Error).message}\n`);
    return 1;
  }
}

const exitCode = await run();
await Promise.all([stdout.flushed(), stderr.flushed()]);
// Exit rather than wait for the event loop to empty: a command may leave handles open (the lab's
// clients, timers) that must not keep `tycho` running once it is done.
process.exit(exitCode);
