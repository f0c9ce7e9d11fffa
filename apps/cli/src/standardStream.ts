import type { Writable } from 'node:stream';

/**
 * stdout or stderr of the `tycho` process, made safe to exit after.
 *
 * Writes to a pipe are asynchronous in Node: what the reader has not taken
 * yet waits inside the process, and `process.exit` throws it away (`tycho
 * observe --all | wc -l` counted 48 of 8,190 lines). `flushed()` resolves once
 * everything written so far has been handed to the kernel.
 *
 * A reader that leaves early (`| head -1`) breaks the pipe: the next write
 * fails with EPIPE, which Node raises as an uncaught error with a stack trace.
 * Here it marks the stream broken, drops later output and calls
 * `onReaderGone` once, so the command can stop as if interrupted.
 */
export function createStandardStream(stream: Writable, onReaderGone: () => void) {
  let broken = false;
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    if (broken) return;
    broken = true;
    onReaderGone();
  });

  return {
    write(text: string): void {
      if (!broken) stream.write(text);
    },
    flushed(): Promise<void> {
      if (broken || stream.destroyed || stream.writableLength === 0) return Promise.resolve();
      // Writes complete in order, so an empty write's callback runs after every earlier one;
      // if the pipe breaks meanwhile, the stream fails the pending callbacks and closes.
      return new Promise((resolve) => {
        stream.once('close', resolve);
        stream.write('', () => resolve());
      });
    },
  } as const;
}
