import type { LinkVerdictClass } from './domain/selection.ts';

export type Theme = 'light' | 'dark';

/** Colours the canvas needs (the DOM takes its colours from styles.css). */
export interface LinkPalette {
  verdict: Record<LinkVerdictClass, string>;
  dimmed: string;
}

export const LINK_PALETTES: Record<Theme, LinkPalette> = {
  light: { verdict: { forwarded: '#3b82f6', dropped: '#dc2626', mixed: '#d97706' }, dimmed: 'rgba(120, 120, 140, 0.15)' },
  dark: { verdict: { forwarded: '#60a5fa', dropped: '#f87171', mixed: '#fbbf24' }, dimmed: 'rgba(160, 160, 190, 0.12)' },
};
