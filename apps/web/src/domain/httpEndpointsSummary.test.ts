import { describe, expect, it } from 'vitest';
import { httpEndpointsSummary } from './httpEndpointsSummary.ts';

const endpoint = (method: string, path: string) => ({ method, path, requests: 1, statuses: { '2xx': 1 } });

describe('httpEndpointsSummary', () => {
  it('groups paths by method in the order the card lists them', () => {
    expect(httpEndpointsSummary([endpoint('GET', '/public'), endpoint('POST', '/login'), endpoint('GET', '/private')])).toBe('GET /public /private · POST /login');
  });

  it('is empty without endpoints', () => {
    expect(httpEndpointsSummary(undefined)).toBe('');
    expect(httpEndpointsSummary([])).toBe('');
  });
});
