/**
 * A policy that cannot be applied: which object, where in it (a JSON path
 * such as `spec.egress[0].toPorts[0].ports[0].port`) and why.
 */
export class PolicyError extends Error {
  constructor(
    /** `CiliumNetworkPolicy default/name`, or `document 2` when the object has no name yet. */
    readonly object: string,
    readonly path: string,
    readonly reason: string,
    readonly file?: string,
  ) {
    super(`${file ? `${file}: ` : ''}${object}: ${path ? `${path}: ` : ''}${reason}`);
    this.name = 'PolicyError';
  }
}

/** `a.b[0].c` from path segments. */
export function formatPath(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out ? `.${String(segment)}` : String(segment);
  }
  return out;
}
