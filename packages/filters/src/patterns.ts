/** The wildcard patterns of `source_fqdn` / `destination_fqdn` and `node_name`. */

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `*.google.com` → a case-insensitive anchored RegExp where `*` matches any run of name characters, dots included (as Hubble). */
export function fqdnToRegExp(pattern: string): RegExp {
  const trimmed = pattern.trim().replace(/\.$/, '').toLowerCase();
  return new RegExp(`^${trimmed.split('*').map(escape).join('[-a-z0-9_.]*')}$`);
}

/**
 * `node-*` → a RegExp over node names, where `*` stays within one path
 * component; a pattern without a cluster (`cluster/node`) matches the node
 * in any cluster.
 */
export function globToRegExp(pattern: string): RegExp {
  const body = pattern.split('*').map(escape).join('[^/]*');
  return new RegExp(pattern.includes('/') ? `^${body}$` : `^(?:[^/]+/)?${body}$`);
}
