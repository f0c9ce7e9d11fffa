import type { Theme } from '../../theme.ts';

export function ThemeToggle({ theme, onToggle }: { theme: Theme; onToggle: () => void }) {
  return (
    <button type="button" className="theme-toggle" onClick={onToggle} aria-label={`Switch to ${theme === 'light' ? 'dark' : 'light'} theme`} data-testid="theme-toggle">
      {theme === 'light' ? '☾' : '☀'}
    </button>
  );
}
