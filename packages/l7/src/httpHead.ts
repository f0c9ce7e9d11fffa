/**
 * The head of an HTTP/1.x message (request or status line, then header
 * lines) from the first bytes of a TCP segment. The first line must be whole;
 * header lines after it are taken while they are whole, so a head cut short
 * by the datapath's payload limit still gives its first line and the headers
 * that fit. Anything that is not a plausible head gives `undefined`.
 */

export interface HttpHeader {
  key: string;
  value: string;
}

export interface HttpRequestHead {
  kind: 'request';
  method: string;
  /** The request target as sent: `/public`, or an absolute URL to a proxy. */
  target: string;
  /** `HTTP/1.0` or `HTTP/1.1`. */
  protocol: string;
  headers: HttpHeader[];
  /** The blank line ending the head was seen. */
  complete: boolean;
}

export interface HttpResponseHead {
  kind: 'response';
  protocol: string;
  code: number;
  reason: string;
  headers: HttpHeader[];
  complete: boolean;
}

export type HttpHead = HttpRequestHead | HttpResponseHead;

const MAX_METHOD_LENGTH = 20;
const TOKEN_CHARS = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const METHOD = /^[A-Z][A-Z_-]*$/;
const PROTOCOL = /^HTTP\/1\.[01]$/;
const STATUS_LINE = /^(HTTP\/1\.[01]) ([1-5]\d\d)(?: ([\x20-\x7e\t]*))?$/;

export function parseHttpHead(bytes: Uint8Array): HttpHead | undefined {
  const lines = headLines(bytes);
  if (!lines) return undefined;
  const [first, ...rest] = lines.lines;
  if (first === undefined) return undefined;
  const headers = headerFields(rest);
  if (!headers) return undefined;

  const status = STATUS_LINE.exec(first);
  if (status) {
    return { kind: 'response', protocol: status[1]!, code: Number(status[2]), reason: status[3] ?? '', headers, complete: lines.complete };
  }
  const parts = first.split(' ');
  if (parts.length !== 3) return undefined;
  const [method, target, protocol] = parts as [string, string, string];
  if (method.length > MAX_METHOD_LENGTH || !METHOD.test(method)) return undefined;
  if (!PROTOCOL.test(protocol) || !isTarget(target)) return undefined;
  return { kind: 'request', method, target, protocol, headers, complete: lines.complete };
}

/**
 * The CRLF-terminated lines before the blank line (or before the bytes run
 * out), as Latin-1 text. An unterminated tail is a cut-off line and dropped.
 */
function headLines(bytes: Uint8Array): { lines: string[]; complete: boolean } | undefined {
  const lines: string[] = [];
  let start = 0;
  for (let i = 0; i + 1 < bytes.length; i++) {
    if (bytes[i] !== 0x0d) continue;
    if (bytes[i + 1] !== 0x0a) return undefined;
    if (i === start) return lines.length > 0 ? { lines, complete: true } : undefined;
    const line = visibleText(bytes.subarray(start, i));
    if (line === undefined) return undefined;
    lines.push(line);
    start = i + 2;
    i++;
  }
  return lines.length > 0 ? { lines, complete: false } : undefined;
}

/** Printable ASCII and tab only; a bare LF or other control byte is not a head. */
function visibleText(bytes: Uint8Array): string | undefined {
  let text = '';
  for (const byte of bytes) {
    if ((byte < 0x20 && byte !== 0x09) || byte >= 0x7f) return undefined;
    text += String.fromCharCode(byte);
  }
  return text;
}

/** `Name: value` lines, keys in Go's canonical form (`content-type` → `Content-Type`), sorted by key as Hubble lists them. */
function headerFields(lines: string[]): HttpHeader[] | undefined {
  const headers: HttpHeader[] = [];
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) return undefined;
    const name = line.slice(0, colon);
    if (!TOKEN_CHARS.test(name)) return undefined;
    headers.push({ key: canonicalHeaderKey(name), value: line.slice(colon + 1).trim() });
  }
  return headers.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function canonicalHeaderKey(name: string): string {
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_match, dash: string, letter: string) => dash + letter.toUpperCase());
}

/** origin-form (`/path?q`), absolute-form (`http://host/path`), authority-form (`host:443`) or `*`. */
function isTarget(target: string): boolean {
  if (target.length === 0 || target.includes('\t')) return false;
  return target === '*' || target.startsWith('/') || /^[A-Za-z][A-Za-z0-9+.-]*:\S+$/.test(target);
}
