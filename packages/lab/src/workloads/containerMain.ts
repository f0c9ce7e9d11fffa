// Process entry for one lab container: runs the built-in workload its spec
// names, and its readiness probe, reporting readiness as status lines.
import { parseProbeCommand } from '../probeCommand.ts';
import { readContainerSpec, type ContainerSpec } from './containerSpec.ts';
import { followRecordsFile, startDnsServer } from './dnsServer.ts';
import { startEchoServer } from './echoServer.ts';
import { runHttpProbe, runReadinessLoop } from './prober.ts';
import { writeStatusLine } from './statusLine.ts';

const specFile = process.argv[2];
if (!specFile) {
  console.error('usage: containerMain.ts <container-spec.json>');
  process.exit(2);
}
const spec: ContainerSpec = readContainerSpec(specFile);
const label = `${spec.namespace}/${spec.pod}`;
const stops: (() => void)[] = [];

async function startWorkload(): Promise<string> {
  switch (spec.workload) {
    case 'echo': {
      const port = Number(spec.env.PORT ?? spec.ports[0]?.port ?? 80);
      const { server } = await startEchoServer({ port, name: spec.pod });
      stops.push(() => server.close());
      return `echo server on :${port}`;
    }
    case 'dns': {
      const zone = followRecordsFile(spec.dnsRecordsFile);
      const server = await startDnsServer({ host: '0.0.0.0', port: 53, records: zone.records });
      stops.push(zone.stop, () => void server.close());
      return 'DNS on :53 (UDP, TCP)';
    }
    case 'prober':
      return 'idle (the readiness probe does the work)';
  }
}

const started = await startWorkload();
console.log(`${label}: ${started}`);

const probeSpec = spec.readinessProbe;
if (!probeSpec) {
  writeStatusLine({ tycho: 'ready', ready: true, detail: 'running (no readiness probe)' });
} else {
  const probe = parseProbeCommand(probeSpec.command);
  const resolver = { nameservers: spec.nameservers, searchDomains: spec.searchDomains };
  const loop = runReadinessLoop(
    () => runHttpProbe(probe, resolver, probeSpec.timeoutMs),
    probeSpec,
    (ready, detail) => writeStatusLine({ tycho: 'ready', ready, detail }),
    (outcome) => writeStatusLine({ tycho: 'probe', ok: outcome.ok, detail: outcome.detail }),
  );
  stops.push(loop.stop);
}

const stop = () => {
  for (const fn of stops) fn();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
