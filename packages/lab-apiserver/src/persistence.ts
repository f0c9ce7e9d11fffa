// Keeps the store across restarts of the server in its --data-dir: a JSON snapshot of every object
// plus an append-only log of the writes since, replayed at start and folded into a new snapshot once
// it grows. Appends are written at once and fsynced in groups: the HTTP edge answers a write only
// after `flushed()`, so an acknowledged write survives a crash, and a burst of writes costs one fsync.
//
// Why not etcd: Debian's etcd speaks gRPC (or its JSON gateway), which would add a client, a second
// process to supervise and its own data format to the lab, while the double needs one writer and no
// quorum. A snapshot and a log give the same guarantee for a single server.
import { closeSync, existsSync, fsync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

import type { KubeObject } from './kubeObject.ts';

export interface PersistedWrite {
  resourceVersion: number;
  /** `storageKey|namespace|name`. */
  key: string;
  /** The object after the write; null when the write deleted it. */
  object: KubeObject | null;
}

const objectSchema = z.looseObject({ metadata: z.looseObject({}) }) as unknown as z.ZodType<KubeObject>;
const snapshotSchema = z.object({
  resourceVersion: z.number().int().nonnegative(),
  objects: z.array(z.object({ key: z.string(), object: objectSchema })),
});
const writeSchema = z.object({ resourceVersion: z.number().int().positive(), key: z.string(), object: objectSchema.nullable() });

export interface LoadedState {
  resourceVersion: number;
  objects: Map<string, KubeObject>;
  /** The writes the log held after the snapshot, oldest first: they refill the watch history. */
  writes: PersistedWrite[];
}

export class DataDirError extends Error {
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'DataDirError';
  }
}

export function openPersistence(dataDir: string, options: { compactAfterWrites?: number } = {}) {
  const compactAfterWrites = options.compactAfterWrites ?? 20_000;
  mkdirSync(dataDir, { recursive: true });
  const snapshotPath = join(dataDir, 'snapshot.json');
  const logPath = join(dataDir, 'log.jsonl');
  let writesInLog = 0;

  function load(): LoadedState {
    const objects = new Map<string, KubeObject>();
    let resourceVersion = 0;
    if (existsSync(snapshotPath)) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(readFileSync(snapshotPath, 'utf8'));
      } catch (error) {
        throw new DataDirError(snapshotPath, `is not JSON (${(error as Error).message}); move it away to start empty`);
      }
      const snapshot = snapshotSchema.safeParse(parsed);
      if (!snapshot.success) throw new DataDirError(snapshotPath, `is not a snapshot: ${snapshot.error.issues[0]?.message ?? 'invalid'}`);
      resourceVersion = snapshot.data.resourceVersion;
      for (const { key, object } of snapshot.data.objects) objects.set(key, object);
    }
    const writes: PersistedWrite[] = [];
    if (existsSync(logPath)) {
      const text = readFileSync(logPath, 'utf8');
      const lines = text.split('\n');
      // The last element is either empty (the log ends with a newline) or a write torn by a crash,
      // which was never acknowledged: both are dropped.
      const complete = lines.slice(0, -1);
      if (!text.endsWith('\n') && text.length > 0) {
        // Cut the torn tail off so the next append starts on a line of its own.
        truncateSync(logPath, Buffer.byteLength(text.slice(0, text.lastIndexOf('\n') + 1)));
      }
      complete.forEach((line, index) => {
        let write: PersistedWrite;
        try {
          const parsed = writeSchema.safeParse(JSON.parse(line));
          if (!parsed.success) throw new Error(parsed.error.issues[0]?.message ?? 'invalid');
          write = parsed.data;
        } catch (error) {
          throw new DataDirError(logPath, `line ${index + 1} is not a write record (${(error as Error).message})`);
        }
        if (write.resourceVersion <= resourceVersion) return;
        resourceVersion = write.resourceVersion;
        if (write.object) objects.set(write.key, write.object);
        else objects.delete(write.key);
        writes.push(write);
      });
    }
    writesInLog = writes.length;
    return { resourceVersion, objects, writes };
  }

  let logFd = openSync(logPath, 'a');
  let syncing: Promise<void> | undefined;
  let syncAgain = false;

  function append(write: PersistedWrite): void {
    writeSync(logFd, `${JSON.stringify(write)}\n`);
    writesInLog += 1;
  }

  function fsyncLog(): Promise<void> {
    return new Promise((resolve, reject) => fsync(logFd, (error) => (error ? reject(error) : resolve())));
  }

  /** Resolves once every write appended so far is on disk (one fsync for all writes that wait together). */
  function flushed(): Promise<void> {
    if (syncing) {
      syncAgain = true;
      return syncing;
    }
    syncing = (async () => {
      do {
        syncAgain = false;
        await fsyncLog();
      } while (syncAgain);
    })().finally(() => {
      syncing = undefined;
    });
    return syncing;
  }

  function needsCompaction(): boolean {
    return writesInLog >= compactAfterWrites;
  }

  /** Writes the whole state as the new snapshot and starts an empty log. */
  function compact(resourceVersion: number, objects: Iterable<[string, KubeObject]>): void {
    const temporary = `${snapshotPath}.tmp`;
    const fd = openSync(temporary, 'w');
    writeSync(fd, `{"resourceVersion":${resourceVersion},"objects":[`);
    let first = true;
    for (const [key, object] of objects) {
      writeSync(fd, `${first ? '' : ','}\n${JSON.stringify({ key, object })}`);
      first = false;
    }
    writeSync(fd, ']}\n');
    fsyncSync(fd);
    closeSync(fd);
    renameSync(temporary, snapshotPath);
    closeSync(logFd);
    logFd = openSync(logPath, 'w');
    fsyncSync(logFd);
    writesInLog = 0;
  }

  function close(): void {
    fsyncSync(logFd);
    closeSync(logFd);
  }

  return { load, append, flushed, needsCompaction, compact, close } as const;
}

export type Persistence = ReturnType<typeof openPersistence>;
