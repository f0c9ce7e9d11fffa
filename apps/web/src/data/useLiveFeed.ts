import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useRef, useState } from 'react';
import { withinNamespace, type FlowFilters } from '../domain/filterSyntax.ts';
import { EMPTY_FEED, FLOW_BUFFER_SIZE, mergeFlows, pauseFeed, receiveBatch, replaceMap, resetFeed, resumeFeed, type LiveFeed } from '../domain/liveFeed.ts';
import { fetchFlows, fetchServiceMap } from './apiClient.ts';
import type { ApiStatus } from './apiSchemas.ts';
import { createStreamClient, streamUrl, type ConnectionState, type StreamClient } from './streamClient.ts';

export interface LiveData {
  feed: LiveFeed;
  /** The map snapshot and first flows have not answered yet. */
  loading: boolean;
  /** What went wrong loading the map or flows, if anything. */
  loadError: string | undefined;
  connection: ConnectionState;
  connectionDetail: string | undefined;
  /** The latest status the stream carried. */
  streamStatus: ApiStatus | undefined;
  pause: () => void;
  resume: () => void;
}

/**
 * The map and flows for a namespace and filters: a snapshot and the last
 * flows through TanStack Query, kept live by the one stream subscription.
 */
export function useLiveFeed(namespace: string | undefined, filters: FlowFilters): LiveData {
  const queryClient = useQueryClient();
  const [feed, setFeed] = useState<LiveFeed>(EMPTY_FEED);
  const [connection, setConnection] = useState<ConnectionState>('connecting');
  const [connectionDetail, setConnectionDetail] = useState<string>();
  const [streamStatus, setStreamStatus] = useState<ApiStatus>();
  const client = useRef<StreamClient | undefined>(undefined);
  const filtersKey = JSON.stringify(filters);

  const snapshot = useQuery({
    queryKey: ['service-map', namespace ?? 'all'],
    queryFn: ({ signal }) => fetchServiceMap(namespace, signal),
    staleTime: Infinity,
    retry: 1,
  });
  const flows = useQuery({
    queryKey: ['flows', namespace ?? 'all', filtersKey],
    queryFn: ({ signal }) => fetchFlows(withinNamespace(filters, namespace), FLOW_BUFFER_SIZE, signal),
    staleTime: Infinity,
    retry: 1,
  });

  useEffect(() => {
    const stream = createStreamClient({
      url: streamUrl(window.location),
      onBatch: (batch) => {
        setFeed((current) => receiveBatch(current, batch.flows, batch.map));
        if (batch.status) setStreamStatus(batch.status);
      },
      onConnection: (state, detail) => {
        setConnection(state);
        setConnectionDetail(detail);
      },
      // After a reconnect the map may have missed removals: reload the snapshot.
      onOpen: () => void queryClient.invalidateQueries({ queryKey: ['service-map'] }),
    });
    client.current = stream;
    return () => stream.close();
  }, [queryClient]);

  useEffect(() => {
    setFeed((current) => resetFeed(current, { cards: [], links: [] }, []));
    client.current?.subscribe({
      ...(namespace ? { namespace } : {}),
      ...(filters.whitelist.length > 0 ? { whitelist: filters.whitelist } : {}),
      ...(filters.blacklist.length > 0 ? { blacklist: filters.blacklist } : {}),
    });
    // filtersKey stands for the filters' content, which is what matters here.
  }, [namespace, filtersKey]);

  useEffect(() => {
    if (snapshot.data) setFeed((current) => replaceMap(current, snapshot.data));
  }, [snapshot.data]);

  useEffect(() => {
    if (flows.data) setFeed((current) => mergeFlows(current, flows.data));
  }, [flows.data]);

  const pause = useCallback(() => setFeed(pauseFeed), []);
  const resume = useCallback(() => setFeed(resumeFeed), []);
  const error = snapshot.error ?? flows.error;

  return {
    feed,
    loading: snapshot.isPending || flows.isPending,
    loadError: error ? error.message : undefined,
    connection,
    connectionDetail,
    streamStatus,
    pause,
    resume,
  };
}
