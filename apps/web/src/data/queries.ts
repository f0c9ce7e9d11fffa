import { useQuery } from '@tanstack/react-query';
import { fetchNamespaces, fetchNodes, fetchStatus } from './apiClient.ts';

/** Server state that is polled, through TanStack Query. */

const POLL_MS = 5_000;

export const useStatus = () => useQuery({ queryKey: ['status'], queryFn: ({ signal }) => fetchStatus(signal), refetchInterval: POLL_MS, retry: false });
export const useNodes = () => useQuery({ queryKey: ['nodes'], queryFn: ({ signal }) => fetchNodes(signal), refetchInterval: POLL_MS, retry: false });
export const useNamespaces = () => useQuery({ queryKey: ['namespaces'], queryFn: ({ signal }) => fetchNamespaces(signal), refetchInterval: POLL_MS * 2 });
