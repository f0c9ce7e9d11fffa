// Undo steps for what a benchmark creates (namespaces, processes, pins, temp
// dirs), run newest first whether the benchmark ends, fails or is interrupted.

export function createCleanupStack() {
  const steps: (() => void | Promise<void>)[] = [];
  let running: Promise<void> | undefined;

  const defer = (undo: () => void | Promise<void>): void => {
    steps.push(undo);
  };

  /** Runs every registered step once, newest first; a failing step is reported and the rest still run. */
  const runAll = (): Promise<void> => {
    running ??= (async () => {
      for (let undo = steps.pop(); undo; undo = steps.pop()) {
        try {
          await undo();
        } catch (error) {
          console.error(`cleanup step failed: ${(error as Error).message}`);
        }
      }
    })().finally(() => {
      running = undefined;
    });
    return running;
  };

  return { defer, runAll } as const;
}
