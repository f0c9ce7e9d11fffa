import { useCallback, useEffect, useState } from 'react';
import type { Theme } from '../theme.ts';

const STORAGE_KEY = 'tycho.theme';

function initialTheme(): Theme {
  const stored = window.localStorage.getItem(STORAGE_KEY);
  if (stored === 'light' || stored === 'dark') return stored;
  return window.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

/** Light or dark, remembered in localStorage, first taken from the system preference. */
export function useTheme(): [Theme, () => void] {
  const [theme, setTheme] = useState<Theme>(initialTheme);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    window.localStorage.setItem(STORAGE_KEY, theme);
  }, [theme]);
  const toggle = useCallback(() => setTheme((current) => (current === 'light' ? 'dark' : 'light')), []);
  return [theme, toggle];
}
