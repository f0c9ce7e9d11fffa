import { keepPreviousData, useQuery } from '@tanstack/react-query';
import type { MetricsWindow } from '../domain/urlState.ts';
import { fetchMetrics, fetchNamespaces, fetchNodes, fetchPolicies, fetchStatus } from './apiClient.ts';

/** Server state that is polled, through TanStack Query. */

const POLL_MS = 5_000;

export const useStatus = () => useQuery({ queryKey: ['status'], queryFn: ({ signal }) => fetchStatus(signal), refetchInterval: POLL_MS, retry: false });
export const useNodes = () => useQuery({ queryKey: ['nodes'], queryFn: ({ signal }) => fetchNodes(signal), refetchInterval: POLL_MS, retry: false });
export const useNamespaces = () => useQuery({ queryKey: ['namespaces'], queryFn: ({ signal }) => fetchNamespaces(signal), refetchInterval: POLL_MS * 2 });

/** The Metrics view's numbers, refetched as often as the API's 5 s buckets fill; the last answer stays while a new window loads. */
const METRICS_POLL_MS = 5_000;
export const useMetrics = (window: MetricsWindow, namespace: string | undefined, enabled = true) =>
  useQuery({
    queryKey: ['metrics', window, namespace ?? 'all'],
    queryFn: ({ signal }) => fetchMetrics(window, namespace, signal),
    refetchInterval: METRICS_POLL_MS,
    placeholderData: keepPreviousData,
    retry: false,
    enabled,
  });

/** The policies and the pods they select, polled while a card is selected (its panel lists the ones selecting it). */
export const usePolicies = (enabled = true) =>
  useQuery({ queryKey: ['policies'], queryFn: ({ signal }) => fetchPolicies(signal), refetchInterval: POLL_MS, retry: false, enabled });
