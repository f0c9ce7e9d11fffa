import type { Verdict } from '@tycho/flow';

const CHOICES: readonly Verdict[] = ['FORWARDED', 'DROPPED', 'AUDIT', 'ERROR', 'REDIRECTED', 'TRACED', 'TRANSLATED'];

export interface VerdictFilterProps {
  value: Verdict | undefined;
  onChange: (verdict: Verdict | undefined) => void;
}

export function VerdictFilter({ value, onChange }: VerdictFilterProps) {
  return (
    <label className="verdict-filter">
      <span>Verdict</span>
      <select
        aria-label="Verdict"
        data-testid="verdict-filter"
        value={value ?? ''}
        onChange={(event) => onChange((CHOICES as readonly string[]).includes(event.target.value) ? (event.target.value as Verdict) : undefined)}
      >
        <option value="">Any verdict</option>
        {CHOICES.map((verdict) => <option key={verdict} value={verdict}>{verdict.toLowerCase()}</option>)}
      </select>
    </label>
  );
}
