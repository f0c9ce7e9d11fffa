import { useEffect, useState } from 'react';
import { FILTER_KINDS, parseFilterText } from '../../domain/filterSyntax.ts';

export interface FilterBarProps {
  value: string;
  /** Called with text that parsed cleanly. */
  onApply: (text: string) => void;
}

/** Hubble UI's filter box: applies on Enter (or leaving the field) when every term parses. */
export function FilterBar({ value, onApply }: FilterBarProps) {
  const [text, setText] = useState(value);
  const [errors, setErrors] = useState<string[]>([]);
  useEffect(() => setText(value), [value]);

  function apply(): void {
    const parsed = parseFilterText(text);
    setErrors(parsed.errors);
    if (parsed.errors.length === 0) onApply(text.trim());
  }

  return (
    <div className="filter-bar">
      <input
        type="search"
        aria-label="Filter flows"
        data-testid="filter-input"
        placeholder={`Filter: ${FILTER_KINDS.map((k) => `${k}=…`).join(' ')}  (from: / to: / !)`}
        value={text}
        aria-invalid={errors.length > 0}
        aria-describedby={errors.length > 0 ? 'filter-errors' : undefined}
        onChange={(event) => setText(event.target.value)}
        onKeyDown={(event) => {
          if (event.key === 'Enter') apply();
          if (event.key === 'Escape') event.stopPropagation();
        }}
        onBlur={apply}
      />
      {errors.length > 0 && (
        <ul id="filter-errors" className="filter-errors" role="alert">
          {errors.map((error) => <li key={error}>{error}</li>)}
        </ul>
      )}
    </div>
  );
}
