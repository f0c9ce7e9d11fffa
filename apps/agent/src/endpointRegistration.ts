import { z } from 'zod';

/**
 * What the CNI plugin sends to `POST /v1/endpoints` (docs/contracts.md).
 * `ipv4` may carry a prefix length (`10.244.0.5/32`); it is kept bare.
 */
/** A string field whose absence reads as "required" rather than a type mismatch. */
function text(what: string) {
  return z.string({ error: (issue) => (issue.input === undefined ? `required (${what})` : `expected a string (${what})`) });
}

/** A container id; it names the endpoint's state file, so it can hold no path separator and cannot be `..`. */
export const containerIdSchema = text('the container id').regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'expected a container id of letters, digits, _ . -');

export const endpointRegistrationSchema = z.strictObject({
  containerId: containerIdSchema,
  podName: text('the pod name').min(1, 'expected the pod name'),
  namespace: text('the pod namespace').min(1, 'expected the pod namespace'),
  netns: text('the pod network namespace path').min(1, 'expected the pod network namespace path'),
  ifname: text('the interface name inside the pod').min(1, 'expected the interface name inside the pod'),
  hostIfname: text('the host-side veth name').min(1, 'expected the host-side veth name'),
  hostIfindex: z
    .number({ error: (issue) => (issue.input === undefined ? 'required (the host-side veth ifindex)' : 'expected a number') })
    .int().positive('expected the host-side veth ifindex (a positive integer)'),
  ipv4: z
    .union([z.ipv4(), z.cidrv4()], { error: 'expected an IPv4 address such as 10.244.0.5' })
    .transform((value) => value.split('/')[0] ?? value),
});

export type EndpointRegistration = z.output<typeof endpointRegistrationSchema>;
