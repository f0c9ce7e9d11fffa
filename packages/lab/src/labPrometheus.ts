import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import yaml from 'js-yaml';
import { spawnInCgroup } from './cgroups.ts';
import { stopChild } from './stopChild.ts';
import { LAB_NODES, UNDERLAY, type LabNode } from './nodes.ts';
import { CGROUP_ROOT, LAB_DIR, LOG_DIR, REPO_ROOT } from './paths.ts';
import { inNetns } from './systemCommand.ts';

/** Debian's Prometheus (package `prometheus`); the lab runs it when it is installed. */
export const PROMETHEUS_BIN = '/usr/bin/prometheus';
/** The cluster form of the config, which the lab's is generated from. */
export const PROMETHEUS_DEPLOY_CONFIG = join(REPO_ROOT, 'deploy', 'prometheus', 'prometheus.yml');
export const PROMETHEUS_DIR = join(LAB_DIR, 'prometheus');
export const PROMETHEUS_LOG = join(LOG_DIR, 'prometheus.log');
const PROMETHEUS_CGROUP = join(CGROUP_ROOT, 'prometheus');
/** Prometheus' address: the underlay bridge's, reachable only inside `tycho-underlay` (and from the nodes). */
export const PROMETHEUS_IP = UNDERLAY.gateway;
export const PROMETHEUS_PORT = 9090;
export const PROMETHEUS_URL = `http://${PROMETHEUS_IP}:${PROMETHEUS_PORT}`;
/** Where each agent serves Hubble metrics in the lab (its node's underlay address). */
export const AGENT_METRICS_PORT = 9965;
const LAB_SCRAPE_INTERVAL = '5s';

interface ScrapeConfig {
  job_name: string;
  [key: string]: unknown;
}
interface PrometheusConfig {
  global?: Record<string, unknown>;
  scrape_configs?: ScrapeConfig[];
  [key: string]: unknown;
}

/**
 * The lab's Prometheus config from the cluster one: the `hubble` job scrapes
 * the lab agents at their node addresses instead of discovering pods, every
 * 5 s, with the `node` label the cluster's relabelling would give.
 */
export function labPrometheusConfig(deployConfigText: string, nodes: readonly LabNode[] = LAB_NODES): PrometheusConfig {
  const config = yaml.load(deployConfigText) as PrometheusConfig;
  const hubble = config.scrape_configs?.find((scrape) => scrape.job_name === 'hubble');
  if (!hubble) throw new Error(`${PROMETHEUS_DEPLOY_CONFIG} has no scrape config with job_name: hubble`);
  const { kubernetes_sd_configs: _sd, relabel_configs: _relabel, ...rest } = hubble;
  const labJob: ScrapeConfig = {
    ...rest,
    static_configs: nodes.map((node) => ({ targets: [`${node.ip}:${AGENT_METRICS_PORT}`], labels: { node: node.name } })),
  };
  return {
    ...config,
    global: { ...config.global, scrape_interval: LAB_SCRAPE_INTERVAL, evaluation_interval: LAB_SCRAPE_INTERVAL },
    scrape_configs: (config.scrape_configs ?? []).map((scrape) => (scrape === hubble ? labJob : scrape)),
  };
}

/**
 * Prometheus for the lab, run inside `tycho-underlay` on 172.18.0.1:9090 (the
 * underlay bridge's address) so it reaches both agents'
 * :9965 and nothing is bound in the machine's own namespace. Lives in the
 * lab's cgroup, so `lab down` kills it with everything else; its TSDB is
 * under /run/tycho/lab/prometheus.
 */
export class LabPrometheus {
  private child: ChildProcess | undefined;
  private stopping = false;

  constructor(private readonly log: (line: string) => void) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  static installed(): boolean {
    return existsSync(PROMETHEUS_BIN);
  }

  async start(): Promise<void> {
    mkdirSync(join(PROMETHEUS_DIR, 'data'), { recursive: true });
    mkdirSync(LOG_DIR, { recursive: true });
    const configFile = join(PROMETHEUS_DIR, 'prometheus.yml');
    writeFileSync(configFile, yaml.dump(labPrometheusConfig(readFileSync(PROMETHEUS_DEPLOY_CONFIG, 'utf8'))));
    const logFd = openSync(PROMETHEUS_LOG, 'a');
    const argv = inNetns(UNDERLAY.netns, [
      PROMETHEUS_BIN,
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(PROMETHEUS_DIR, 'data')}`,
      `--web.listen-address=${PROMETHEUS_IP}:${PROMETHEUS_PORT}`,
    ]);
    const child = spawnInCgroup(PROMETHEUS_CGROUP, argv, { stdio: ['ignore', logFd, logFd], cwd: PROMETHEUS_DIR });
    closeSync(logFd);
    this.child = child;
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      if (!this.stopping) this.log(`prometheus exited (${signal ?? `code ${code}`}); see ${PROMETHEUS_LOG}`);
    });
    this.log(`prometheus scraping the agents every ${LAB_SCRAPE_INTERVAL} at ${PROMETHEUS_URL} (inside netns ${UNDERLAY.netns})`);
  }

  async stop(graceMs = 3000): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (child) await stopChild(child, graceMs);
  }
}
