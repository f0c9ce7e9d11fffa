import type { Flow } from '@tycho/flow';
import type { MetricFamily } from './metricFamily.ts';

/** One Hubble metric plugin (`dns`, `drop`, …) configured from its options. */
export interface MetricHandler {
  readonly name: string;
  readonly families: readonly MetricFamily[];
  processFlow(flow: Flow): void;
}

/** Every metric's name starts with this (Hubble's Prometheus namespace). */
export const METRIC_PREFIX = 'hubble_';
