/**
 * How a container process tells the supervisor about its readiness: one JSON
 * object per line on stdout, marked with `"tycho"`. Other output is just log.
 */
export type StatusLine =
  | { tycho: 'ready'; ready: boolean; detail: string }
  | { tycho: 'probe'; ok: boolean; detail: string };

export function writeStatusLine(line: StatusLine): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

export function parseStatusLine(text: string): StatusLine | undefined {
  if (!text.startsWith('{"tycho":')) return undefined;
  try {
    const value = JSON.parse(text) as StatusLine;
    return value.tycho === 'ready' || value.tycho === 'probe' ? value : undefined;
  } catch {
    return undefined;
  }
}
