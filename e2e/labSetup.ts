import { execFileSync } from 'node:child_process';

const API = 'http://localhost:32321';

/** Brings the lab up (as `npm start` does, but in the background) and waits for flows in the API. */
export default async function labSetup(): Promise<void> {
  execFileSync(process.execPath, ['apps/cli/bin/tycho.mjs', 'lab', 'up', '--detach'], { stdio: 'inherit', timeout: 300_000 });
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      const status = (await (await fetch(`${API}/api/v1/status`)).json()) as { num_flows?: number; num_connected_nodes?: number };
      if ((status.num_connected_nodes ?? 0) >= 2 && (status.num_flows ?? 0) > 0) return;
    } catch {
      // the API is still starting
    }
    if (Date.now() > deadline) throw new Error(`the lab API at ${API} had no flows from both nodes after 120 s`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}
