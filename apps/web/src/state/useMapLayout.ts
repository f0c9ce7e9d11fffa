import { useMemo, useRef } from 'react';
import type { Card, Link } from '@tycho/servicemap';
import { linkCurves, type LinkCurve } from '../layout/linkGeometry.ts';
import { EMPTY_LAYOUT, layoutMap, type IslandBox, type MapLayout } from '../layout/mapLayout.ts';

export interface MapGeometry {
  layout: MapLayout;
  islands: IslandBox[];
  curves: LinkCurve[];
}

/**
 * The layout of the current view, grown incrementally from the view's
 * previous layout (one per namespace choice), so cards keep their place in
 * their namespace's island when flows arrive and when the user comes back
 * to a namespace. Islands are shaped and packed for the map viewport's size
 * as the map last reported it (the map is mounted, and measured, before data
 * arrives); when an island grows, the islands after it move as blocks and
 * the map fits itself to them again.
 */
export function useMapLayout(viewKey: string, cards: ReadonlyMap<string, Card>, links: ReadonlyMap<string, Link>, mapVersion: number): MapGeometry {
  const layouts = useRef(new Map<string, MapLayout>());
  return useMemo(() => {
    const viewport = mapViewport.size();
    const layout = layoutMap(layouts.current.get(viewKey) ?? EMPTY_LAYOUT, cards.values(), links.values(), viewport === undefined ? {} : { viewport });
    layouts.current.set(viewKey, layout);
    const islands = layout.islandOrder.flatMap((key) => layout.islands.get(key) ?? []);
    return { layout, islands, curves: linkCurves(layout, cards, links.values()) };
    // mapVersion changes exactly when cards or links do.
  }, [viewKey, mapVersion, cards, links]);
}

/** The map viewport's size as the map last measured it (ServiceMapView reports it; the layout reads it). */
function createMapViewport() {
  let size: { width: number; height: number } | undefined;
  return {
    report(width: number, height: number): void {
      if (width > 0 && height > 0) size = { width, height };
    },
    size(): { width: number; height: number } | undefined {
      return size;
    },
  } as const;
}

export const mapViewport = createMapViewport();
