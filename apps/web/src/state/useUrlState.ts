import { useCallback, useEffect, useState } from 'react';
import { formatUrlState, parseUrlState, type UrlState } from '../domain/urlState.ts';

/** The view state that lives in the address bar; updates replace the current history entry. */
export function useUrlState(): [UrlState, (update: Partial<UrlState>) => void] {
  const [state, setState] = useState<UrlState>(() => parseUrlState(window.location.search));

  useEffect(() => {
    const onPopState = () => setState(parseUrlState(window.location.search));
    window.addEventListener('popstate', onPopState);
    return () => window.removeEventListener('popstate', onPopState);
  }, []);

  const update = useCallback((change: Partial<UrlState>) => {
    setState((current) => {
      const next = { ...current, ...change };
      const query = formatUrlState(next);
      if (query !== window.location.search) window.history.replaceState(null, '', `${window.location.pathname}${query}${window.location.hash}`);
      return next;
    });
  }, []);

  return [state, update];
}
