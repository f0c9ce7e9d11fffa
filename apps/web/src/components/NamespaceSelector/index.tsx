export interface NamespaceSelectorProps {
  namespaces: readonly string[];
  /** undefined = all namespaces. */
  value: string | undefined;
  onChange: (namespace: string | undefined) => void;
}

export const ALL_NAMESPACES = 'all';

/** Namespace choice, with "All namespaces" (the map then draws each namespace as an island). */
export function NamespaceSelector({ namespaces, value, onChange }: NamespaceSelectorProps) {
  const options = value && !namespaces.includes(value) ? [...namespaces, value].sort() : namespaces;
  return (
    <label className="namespace-selector">
      <span>Namespace</span>
      <select
        data-testid="namespace-selector"
        aria-label="Namespace"
        value={value ?? ALL_NAMESPACES}
        onChange={(event) => onChange(event.target.value === ALL_NAMESPACES ? undefined : event.target.value)}
      >
        <option value={ALL_NAMESPACES}>All namespaces</option>
        {options.map((namespace) => <option key={namespace} value={namespace}>{namespace}</option>)}
      </select>
    </label>
  );
}
