#!/usr/bin/env node
// The `tycho-cni` plugin binary, run by the container runtime with CNI_* variables.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
