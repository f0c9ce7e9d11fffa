// Runs the tycho-cni binary the way a container runtime does: CNI_* variables, config on stdin,
// optionally inside a node's network namespace (`ip netns exec <node-ns> tycho-cni`).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { CniErrorResult } from './cniError.ts';
import { cniResultSchema, type CniResult } from './cniResult.ts';

/** Absolute path of the executable (`#!/usr/bin/env node`, loads the TypeScript through tsx). */
export const tychoCniBin = fileURLToPath(new URL('../bin/tycho-cni.mjs', import.meta.url));

export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'VERSION';

export interface PodAttachment {
  containerId: string;
  /** Path of the pod's network namespace, e.g. `/var/run/netns/tycho-pod-default-echo-a`. */
  netns: string;
  /** Interface name inside the pod; default `eth0`. */
  ifname?: string;
  podNamespace: string;
  podName: string;
}

export interface RunCniOptions {
  /** Name of the network namespace to run the plugin in (the node's); omit to run in the caller's. */
  nodeNetns?: string;
  timeoutMs?: number;
}

export type CniOutcome =
  | { ok: true; exitCode: 0; output: unknown; stderr: string }
  | { ok: false; exitCode: number; error: CniErrorResult; stderr: string };

const cniErrorResultSchema = z.object({ cniVersion: z.string(), code: z.number(), msg: z.string(), details: z.string().default('') });

/** A failed invocation, carrying the plugin's CNI error result. */
export class CniInvocationError extends Error {
  readonly error: CniErrorResult;
  readonly stderr: string;

  constructor(command: CniCommand, error: CniErrorResult, stderr: string) {
    super(`tycho-cni ${command} failed with code ${error.code}: ${error.msg}${error.details === '' ? '' : ` (${error.details})`}`);
    this.name = 'CniInvocationError';
    this.error = error;
    this.stderr = stderr;
  }
}

/** The CNI_* variables for one command on one pod attachment. */
export function cniEnvFor(command: CniCommand, pod?: PodAttachment): Record<string, string> {
  if (pod === undefined) return { CNI_COMMAND: command };
  return {
    CNI_COMMAND: command,
    CNI_CONTAINERID: pod.containerId,
    CNI_NETNS: pod.netns,
    CNI_IFNAME: pod.ifname ?? 'eth0',
    CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${pod.podNamespace};K8S_POD_NAME=${pod.podName}`,
    CNI_PATH: '/opt/cni/bin',
  };
}

/**
 * Spawns tycho-cni with exactly `env` (plus PATH) and `stdin`; objects are sent as JSON.
 * Resolves with the parsed stdout whatever the exit code; rejects only if it cannot be run.
 */
export function runCni(env: Record<string, string>, stdin: string | object, options: RunCniOptions = {}): Promise<CniOutcome> {
  const [file, args] = options.nodeNetns === undefined ? [tychoCniBin, []] : ['ip', ['netns', 'exec', options.nodeNetns, tychoCniBin]];
  const child = spawn(file, args, {
    env: { PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
    timeout: options.timeoutMs ?? 30_000,
  });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  child.stdin.end(typeof stdin === 'string' ? stdin : JSON.stringify(stdin));

  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const out = Buffer.concat(stdout).toString('utf8').trim();
      const err = Buffer.concat(stderr).toString('utf8');
      if (code === 0) {
        resolve({ ok: true, exitCode: 0, output: out === '' ? undefined : JSON.parse(out), stderr: err });
        return;
      }
      const parsed = safeJson(out);
      const error = cniErrorResultSchema.safeParse(parsed);
      resolve({
        ok: false,
        exitCode: code ?? -1,
        error: error.success
          ? error.data
          : { cniVersion: '', code: 999, msg: `tycho-cni exited with ${code ?? signal} without a CNI error result`, details: `stdout: ${out}; stderr: ${err}` },
        stderr: err,
      });
    });
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** ADD: attaches the pod and returns the CNI result; throws CniInvocationError on failure. */
export async function cniAdd(pod: PodAttachment, config: object, options: RunCniOptions = {}): Promise<CniResult> {
  const outcome = await runCni(cniEnvFor('ADD', pod), config, options);
  if (!outcome.ok) throw new CniInvocationError('ADD', outcome.error, outcome.stderr);
  return cniResultSchema.parse(outcome.output);
}

/** DEL: detaches the pod; idempotent. Throws CniInvocationError on failure. */
export async function cniDel(pod: PodAttachment, config: object, options: RunCniOptions = {}): Promise<void> {
  const outcome = await runCni(cniEnvFor('DEL', pod), config, options);
  if (!outcome.ok) throw new CniInvocationError('DEL', outcome.error, outcome.stderr);
}
