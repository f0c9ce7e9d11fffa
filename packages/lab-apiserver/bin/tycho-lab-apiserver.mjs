#!/usr/bin/env node
// The `tycho-lab-apiserver` command: registers tsx so the TypeScript sources run as they are.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
