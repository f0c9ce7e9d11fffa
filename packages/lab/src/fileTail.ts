import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

const MAX_TAIL_BYTES = 64 * 1024;

/** The last `lines` lines of an open file (works after the file was unlinked). */
export function tailOfFd(fd: number, lines: number): string {
  const size = fstatSync(fd).size;
  const length = Math.min(size, MAX_TAIL_BYTES);
  const buffer = Buffer.alloc(length);
  readSync(fd, buffer, 0, length, size - length);
  return buffer.toString('utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

/** The last `lines` lines of a file, or '' when it cannot be read. */
export function tailOfFile(path: string, lines: number): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return '';
  }
  try {
    return tailOfFd(fd, lines);
  } finally {
    closeSync(fd);
  }
}
