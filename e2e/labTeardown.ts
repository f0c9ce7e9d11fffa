import { execFileSync } from 'node:child_process';

export default function labTeardown(): void {
  execFileSync(process.execPath, ['apps/cli/bin/tycho.mjs', 'lab', 'down'], { stdio: 'inherit', timeout: 120_000 });
}
