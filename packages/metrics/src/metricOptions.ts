/**
 * Hubble's metrics option string: metrics separated by `,` (or whitespace, as
 * in Cilium's ConfigMap), each `name` or `name:opts`; opts separated by `;`,
 * each `key=value` or a bare `key` (value ''). Checking names and option
 * values is the handlers' job (`createFlowMetrics`), as in Hubble.
 */
export interface MetricSpec {
  name: string;
  options: ReadonlyMap<string, string>;
}

export function parseMetricOptions(text: string): MetricSpec[] {
  const byName = new Map<string, MetricSpec>();
  for (const entry of text.split(/[,\s]+/)) {
    if (entry === '') continue;
    const colon = entry.indexOf(':');
    const name = colon < 0 ? entry : entry.slice(0, colon);
    // A metric named twice keeps its first position and its last options (Hubble keeps a map).
    byName.set(name, { name, options: colon < 0 ? new Map() : parseHandlerOptions(entry.slice(colon + 1)) });
  }
  return [...byName.values()];
}

function parseHandlerOptions(text: string): Map<string, string> {
  const options = new Map<string, string>();
  for (const option of text.split(';')) {
    if (option === '') continue;
    const eq = option.indexOf('=');
    if (eq < 0) options.set(option, '');
    else options.set(option.slice(0, eq), option.slice(eq + 1));
  }
  return options;
}

/** The option's value when its key matches case-insensitively (Hubble lower-cases keys). */
export function optionValue(options: ReadonlyMap<string, string>, key: string): string | undefined {
  const wanted = key.toLowerCase();
  for (const [k, v] of options) if (k.toLowerCase() === wanted) return v;
  return undefined;
}
