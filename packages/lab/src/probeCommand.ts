/**
 * The readiness probes of the connectivity-check are exec probes running
 * curl (`curl -sS --fail --connect-timeout 5 -o /dev/null echo-a:8080/public`,
 * or `ash -c '! curl …'` for the case that must be refused). The lab has no
 * container images, so its prober parses that command and performs the same
 * GET itself. This module is the parser.
 */
export interface HttpProbe {
  /** `! curl …`: the probe succeeds when the request fails. */
  readonly negate: boolean;
  readonly scheme: 'http' | 'https';
  /** Host name or IP literal as written (resolved through the cluster DNS). */
  readonly host: string;
  readonly port: number;
  /** Path and query. */
  readonly path: string;
  /** `--fail`: an HTTP status >= 400 is a failure. */
  readonly failOnHttpError: boolean;
  /** `--connect-timeout`, in ms. */
  readonly connectTimeoutMs: number | undefined;
  /** `-m/--max-time`, in ms. */
  readonly maxTimeMs: number | undefined;
}

const SHELLS = new Set(['sh', 'ash', 'bash']);

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Splits a shell command line into words (quotes and backslashes; no expansions). */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (quote) {
      if (ch === quote) quote = undefined;
      else if (ch === '\\' && quote === '"' && i + 1 < line.length) word += line[++i];
      else word += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (quote) throw new Error(`probe command: unterminated ${quote} quote in: ${line}`);
  if (inWord) words.push(word);
  return words;
}

function seconds(option: string, value: string | undefined): number {
  const n = Number(value);
  if (value === undefined || !Number.isFinite(n) || n <= 0) {
    throw new Error(`probe command: ${option} needs a positive number of seconds, got ${value ?? 'nothing'}`);
  }
  return Math.round(n * 1000);
}

/** Parses a probe's exec command into the HTTP request it makes. */
export function parseProbeCommand(command: readonly string[]): HttpProbe {
  let argv = [...command];
  const first = argv[0];
  if (first !== undefined && SHELLS.has(basename(first))) {
    if (argv[1] !== '-c' || argv[2] === undefined) {
      throw new Error(`probe command: expected '${first} -c "<command>"', got ${JSON.stringify(command)}`);
    }
    argv = shellWords(argv[2]);
  }
  let negate = false;
  if (argv[0] === '!') {
    negate = true;
    argv = argv.slice(1);
  }
  if (argv[0] === undefined || basename(argv[0]) !== 'curl') {
    throw new Error(`probe command: the lab's prober runs curl commands only, got ${JSON.stringify(command)}`);
  }

  let failOnHttpError = false;
  let connectTimeoutMs: number | undefined;
  let maxTimeMs: number | undefined;
  const urls: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--fail') failOnHttpError = true;
    else if (arg === '--silent' || arg === '--show-error') continue;
    else if (arg === '-o' || arg === '--output') i++;
    else if (arg === '--connect-timeout') connectTimeoutMs = seconds(arg, argv[++i]);
    else if (arg === '-m' || arg === '--max-time') maxTimeMs = seconds(arg, argv[++i]);
    else if (/^-[sSf]+$/.test(arg)) failOnHttpError ||= arg.includes('f');
    else if (arg.startsWith('-')) throw new Error(`probe command: unsupported curl option '${arg}' in ${JSON.stringify(command)}`);
    else urls.push(arg);
  }
  if (urls.length !== 1) {
    throw new Error(`probe command: expected exactly one URL, got ${urls.length} in ${JSON.stringify(command)}`);
  }
  const written = urls[0] as string;
  const url = new URL(/^[a-z]+:\/\//i.test(written) ? written : `http://${written}`);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`probe command: unsupported URL scheme '${url.protocol}' in ${written}`);
  }
  const scheme = url.protocol === 'https:' ? 'https' : 'http';
  return {
    negate,
    scheme,
    host: url.hostname,
    port: url.port ? Number(url.port) : scheme === 'https' ? 443 : 80,
    path: `${url.pathname}${url.search}`,
    failOnHttpError,
    connectTimeoutMs,
    maxTimeMs,
  };
}
