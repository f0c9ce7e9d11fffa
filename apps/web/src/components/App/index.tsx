import { useEffect, useMemo, useState, type ReactNode } from 'react';
import { parseFilterText, toFlowFilters, type FlowFilters } from '../../domain/filterSyntax.ts';
import { cardPoliciesState } from '../../domain/policyDisplay.ts';
import { flowMatchesSelection, peersOf, selectionOf } from '../../domain/selection.ts';
import { useMetrics, useNamespaces, useNodes, usePolicies, useStatus } from '../../data/queries.ts';
import { useLiveFeed } from '../../data/useLiveFeed.ts';
import { useColumns } from '../../state/useColumns.ts';
import { useMapLayout } from '../../state/useMapLayout.ts';
import { useTheme } from '../../state/useTheme.ts';
import { useUrlState } from '../../state/useUrlState.ts';
import { LINK_PALETTES } from '../../theme.ts';
import { CardPanel } from '../CardPanel/index.tsx';
import { ConnectionIndicator } from '../ConnectionIndicator/index.tsx';
import { FilterBar } from '../FilterBar/index.tsx';
import { FlowDetail } from '../FlowDetail/index.tsx';
import { FlowsTable } from '../FlowsTable/index.tsx';
import { LinkPanel } from '../LinkPanel/index.tsx';
import { LiveToggle } from '../LiveToggle/index.tsx';
import { MetricsView } from '../MetricsView/index.tsx';
import { NamespaceSelector } from '../NamespaceSelector/index.tsx';
import { ServiceMapView } from '../ServiceMapView/index.tsx';
import { StatusBanner, type MapCondition } from '../StatusBanner/index.tsx';
import { ThemeToggle } from '../ThemeToggle/index.tsx';
import { VerdictFilter } from '../VerdictFilter/index.tsx';
import { ViewTabs, viewPanelId, viewTabId } from '../ViewTabs/index.tsx';

/** The page: wires URL state, server state and the live feed to the components that draw them. */
export function App() {
  const [url, setUrl] = useUrlState();
  const [theme, toggleTheme] = useTheme();
  const [columns, toggleColumn] = useColumns();
  const [selectedFlow, setSelectedFlow] = useState<string>();

  // A filter from the URL may not parse (the bar only applies clean text): use its good terms and say what was dropped.
  const { filters, filterError } = useMemo((): { filters: FlowFilters; filterError: string | undefined } => {
    const parsed = parseFilterText(url.filter);
    return { filters: toFlowFilters(parsed.terms, url.verdict), filterError: parsed.errors[0] };
  }, [url.filter, url.verdict]);

  const live = useLiveFeed(url.namespace, filters);
  const { feed } = live;
  const namespaces = useNamespaces();
  const status = useStatus();
  const nodes = useNodes();
  const metrics = useMetrics(url.window, url.namespace, url.view === 'metrics');
  const selection = selectionOf(url.card, url.link);
  const policies = usePolicies(url.view === 'map' && selection.kind === 'card');
  const geometry = useMapLayout(url.namespace ?? 'all', feed.cards, feed.links, feed.mapVersion);
  const tableFlows = useMemo(() => (selection.kind === 'none' ? feed.flows : feed.flows.filter((flow) => flowMatchesSelection(flow, selection))), [feed.flows, selection.kind, selection.kind === 'none' ? '' : selection.id]);
  const flowInDetail = selectedFlow ? feed.flows.find((flow) => flow.uuid === selectedFlow) : undefined;

  const clearSelection = () => setUrl({ card: undefined, link: undefined });
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== 'Escape') return;
      if (selectedFlow) setSelectedFlow(undefined);
      else setUrl({ card: undefined, link: undefined });
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [selectedFlow, setUrl]);

  const unreachable = status.isError && live.connection !== 'open';
  const condition: MapCondition = unreachable
    ? 'unreachable'
    : feed.cards.size > 0 ? 'ready' : live.loading ? 'loading' : 'empty';
  const streamStatus = live.streamStatus ?? status.data;
  const nodeList = nodes.data?.nodes;

  let panel: ReactNode = null;
  if (flowInDetail) {
    panel = <FlowDetail flow={flowInDetail} onClose={() => setSelectedFlow(undefined)} />;
  } else if (selection.kind === 'card') {
    const card = feed.cards.get(selection.id);
    if (card) {
      const { inbound, outbound } = peersOf(card.id, feed.links.values(), feed.cards);
      panel = <CardPanel card={card} policies={cardPoliciesState(policies, card)} inbound={inbound} outbound={outbound} onSelectCard={(id) => setUrl({ card: id, link: undefined })} onClose={clearSelection} />;
    }
  } else if (selection.kind === 'link') {
    const link = feed.links.get(selection.id);
    if (link) panel = <LinkPanel link={link} cards={feed.cards} onClose={clearSelection} />;
  }

  return (
    <div className="app">
      <header className="topbar">
        <h1 className="brand">Tycho</h1>
        <ViewTabs value={url.view} onChange={(view) => setUrl({ view })} />
        <NamespaceSelector
          namespaces={namespaces.data?.namespaces ?? []}
          value={url.namespace}
          onChange={(namespace) => setUrl({ namespace, card: undefined, link: undefined })}
        />
        {url.view === 'map' && (
          <>
            <FilterBar value={url.filter} onApply={(filter) => setUrl({ filter })} />
            <VerdictFilter value={url.verdict} onChange={(verdict) => setUrl({ verdict })} />
            <LiveToggle paused={feed.paused} pendingCount={feed.pendingFlowCount} onPause={live.pause} onResume={live.resume} />
          </>
        )}
        <ConnectionIndicator
          connection={live.connection}
          flowsPerSecond={streamStatus?.flows_per_second}
          connectedNodes={nodeList ? nodeList.filter((node) => node.state === 'CONNECTED').length : streamStatus?.num_connected_nodes}
          totalNodes={nodeList ? nodeList.length : streamStatus ? streamStatus.num_connected_nodes + streamStatus.num_unavailable_nodes : undefined}
          detail={live.connectionDetail}
        />
        <ThemeToggle theme={theme} onToggle={toggleTheme} />
      </header>
      {url.view === 'metrics' ? (
        <main className="workspace" id={viewPanelId('metrics')} role="tabpanel" aria-labelledby={viewTabId('metrics')}>
          <MetricsView
            window={url.window}
            namespace={url.namespace}
            onWindowChange={(window) => setUrl({ window })}
            metrics={metrics.data}
            loading={metrics.isPlaceholderData}
            error={metrics.error?.message}
            updatedAt={metrics.dataUpdatedAt || undefined}
          />
        </main>
      ) : (
        <>
          {filterError && <p className="filter-warning" role="alert">{filterError}</p>}
          <main className="workspace" id={viewPanelId('map')} role="tabpanel" aria-labelledby={viewTabId('map')}>
            <div className="map-area">
              <ServiceMapView
                cards={feed.cards}
                links={feed.links}
                boxes={geometry.layout.cards}
                islands={geometry.islands}
                curves={geometry.curves}
                selection={selection}
                palette={LINK_PALETTES[theme]}
                fitKey={url.namespace ?? 'all'}
                onSelectCard={(id) => setUrl({ card: id, link: undefined })}
                onSelectLink={(id) => setUrl({ link: id, card: undefined })}
                onClearSelection={clearSelection}
              />
              <StatusBanner condition={condition} detail={unreachable ? status.error?.message : live.loadError} />
            </div>
            {panel}
          </main>
          <FlowsTable flows={tableFlows} columns={columns} selectedFlow={selectedFlow} onSelectFlow={setSelectedFlow} onToggleColumn={toggleColumn} />
        </>
      )}
    </div>
  );
}
