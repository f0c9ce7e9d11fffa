import { readdirSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';

/** Directories below the root that hold objects: `<kind>/` and `<kind>/<namespace>/`. */
const MAX_DEPTH = 2;

/**
 * Calls `onChange` after every write under a DirectoryKubeStore root. Each
 * directory of the store is watched on its own: the store writes by atomic
 * rename, which a watch on the directory reports every time, whereas Node's
 * recursive watch on Linux follows the replaced file and misses later writes
 * to it. A directory that appears later (a new namespace) is watched from the
 * change that created it on. inotify only: nothing runs while the store is
 * idle. Never throws; what cannot be watched is left to the caller's poll.
 */
export function watchKubeStore(root: string, onChange: () => void): { close(): void } {
  const watchers = new Map<string, FSWatcher>();
  let closed = false;

  const scan = (dir: string, depth: number): void => {
    if (depth >= MAX_DEPTH) return;
    let names: string[];
    try {
      names = readdirSync(dir, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
    } catch {
      return;
    }
    for (const name of names) add(join(dir, name), depth + 1);
  };

  const add = (dir: string, depth: number): void => {
    if (closed || watchers.has(dir)) return;
    let watcher: FSWatcher;
    try {
      watcher = watch(dir, { persistent: false }, () => {
        scan(dir, depth);
        onChange();
      });
    } catch {
      return;
    }
    watcher.on('error', () => {
      // The directory went away; a later change of its parent watches it again.
      watcher.close();
      watchers.delete(dir);
      onChange();
    });
    watchers.set(dir, watcher);
    scan(dir, depth);
  };

  add(root, 0);
  return {
    close() {
      closed = true;
      for (const watcher of watchers.values()) watcher.close();
      watchers.clear();
    },
  };
}
