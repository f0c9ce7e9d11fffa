// Process entry of a detached lab supervisor (started by `labUp({ detach: true })`).
import { LabSupervisor } from './supervisor.ts';

const manifests = process.argv.slice(2);
const log = (line: string) => console.log(`${new Date().toISOString()} ${line}`);
const lab = new LabSupervisor({ manifests, log });

let stopping: Promise<void> | undefined;
const stop = () => {
  stopping ??= lab.stop().then(
    () => process.exit(0),
    (err: unknown) => {
      log(`[lab] teardown failed: ${(err as Error).message}`);
      process.exit(1);
    },
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('SIGHUP', () => undefined);

try {
  await lab.start();
} catch (err) {
  log(`[lab] ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
}
