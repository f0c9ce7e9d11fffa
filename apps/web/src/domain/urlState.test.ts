import { describe, expect, it } from 'vitest';
import { EMPTY_URL_STATE, formatUrlState, parseUrlState, type UrlState } from './urlState.ts';

describe('URL state', () => {
  it('round-trips namespace, selection, filter and verdict', () => {
    const state: UrlState = { ...EMPTY_URL_STATE, namespace: 'default', card: 'default/echo-a', filter: 'to:pod=echo !ip=10.0.0.1', verdict: 'DROPPED' };
    const query = formatUrlState(state);
    expect(query).toBe('?namespace=default&card=default%2Fecho-a&filter=to%3Apod%3Decho+%21ip%3D10.0.0.1&verdict=DROPPED');
    expect(parseUrlState(query)).toEqual(state);
  });

  it('round-trips a link selection', () => {
    const state: UrlState = { ...EMPTY_URL_STATE, link: 'default/pod-to-a|TCP|default/echo-a|8080' };
    expect(parseUrlState(formatUrlState(state))).toEqual(state);
  });

  it('writes nothing for the default view (all namespaces, no selection)', () => {
    expect(formatUrlState(EMPTY_URL_STATE)).toBe('');
    expect(parseUrlState('')).toEqual(EMPTY_URL_STATE);
  });

  it('reads namespace=all as all namespaces and ignores an unknown verdict', () => {
    expect(parseUrlState('?namespace=all&verdict=MAYBE')).toEqual(EMPTY_URL_STATE);
  });

  it('prefers a card over a link when both are given', () => {
    expect(parseUrlState('?card=a%2Fb&link=x')).toMatchObject({ card: 'a/b', link: undefined });
  });

  it('round-trips the Metrics view and its time window', () => {
    const state: UrlState = { ...EMPTY_URL_STATE, namespace: 'default', view: 'metrics', window: '15m' };
    expect(formatUrlState(state)).toBe('?namespace=default&view=metrics&window=15m');
    expect(parseUrlState('?namespace=default&view=metrics&window=15m')).toEqual(state);
  });

  it('falls back to the map and the 5 minute window for unknown values', () => {
    expect(parseUrlState('?view=graphs&window=2d')).toEqual(EMPTY_URL_STATE);
  });
});
