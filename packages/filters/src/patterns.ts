/** The wildcard patterns of `source_fqdn` / `destination_fqdn` and `node_name`, as RE2 regular expressions. */

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `*.google.com` → an anchored regular expression over lower-case names where `*` matches any run of name characters, dots included (as Hubble). */
export function fqdnRegexSource(pattern: string): string {
  const trimmed = pattern.trim().replace(/\.$/, '').toLowerCase();
  return `^${trimmed.split('*').map(escape).join('[-a-z0-9_.]*')}$`;
}

/**
 * `node-*` → a regular expression over node names, where `*` stays within
 * one path component; a pattern without a cluster (`cluster/node`) matches
 * the node in any cluster.
 */
export function globRegexSource(pattern: string): string {
  const body = pattern.split('*').map(escape).join('[^/]*');
  return pattern.includes('/') ? `^${body}$` : `^(?:[^/]+/)?${body}$`;
}
