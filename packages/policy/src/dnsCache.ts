import { type FqdnSelector, fqdnSelectorMatches } from './fqdnSelector.ts';

/** One address learned from a DNS answer, valid until its TTL runs out. */
export interface DnsRecord {
  /** As asked, with or without the trailing dot; compared case-insensitively. */
  readonly name: string;
  readonly ip: string;
  /** Epoch milliseconds when the TTL runs out. */
  readonly expiresAtMs: number;
}

/** The addresses of live records whose name the selector matches, sorted and unique. */
export function fqdnAddresses(selector: FqdnSelector, records: readonly DnsRecord[], nowMs: number): string[] {
  const ips = new Set<string>();
  for (const record of records) {
    if (record.expiresAtMs > nowMs && fqdnSelectorMatches(selector, record.name)) ips.add(record.ip);
  }
  return [...ips].sort();
}

/** When the earliest live record that `selectors` use expires: the next time policy must be recomputed. */
export function nextDnsExpiry(selectors: readonly FqdnSelector[], records: readonly DnsRecord[], nowMs: number): number | undefined {
  let next: number | undefined;
  for (const record of records) {
    if (record.expiresAtMs <= nowMs) continue;
    if (!selectors.some((selector) => fqdnSelectorMatches(selector, record.name))) continue;
    if (next === undefined || record.expiresAtMs < next) next = record.expiresAtMs;
  }
  return next;
}
