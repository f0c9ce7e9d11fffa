// The success result of ADD (CNI spec 1.0.0, section 5), and its schema for callers reading it back.
import { z } from 'zod';

export const cniResultSchema = z.object({
  cniVersion: z.string(),
  interfaces: z.array(z.object({ name: z.string(), mac: z.string().optional(), sandbox: z.string().optional() })),
  ips: z.array(
    z.object({
      /** Only in results for spec versions before 1.0.0. */
      version: z.literal('4').optional(),
      address: z.string(),
      gateway: z.string().optional(),
      interface: z.number().int().optional(),
    }),
  ),
  routes: z.array(z.object({ dst: z.string(), gw: z.string().optional() })),
  dns: z.object({
    nameservers: z.array(z.string()).optional(),
    domain: z.string().optional(),
    search: z.array(z.string()).optional(),
    options: z.array(z.string()).optional(),
  }),
});

export type CniResult = z.infer<typeof cniResultSchema>;

export interface Attachment {
  hostIfname: string;
  hostMac: string;
  podIfname: string;
  podMac: string;
  netns: string;
  ipv4: string;
  gateway: string;
}

/** Interface 0 is the host end, interface 1 the pod end that carries the address. */
export function attachmentResult(cniVersion: string, attachment: Attachment, dns: CniResult['dns'] = {}): CniResult {
  const beforeV1 = cniVersion.startsWith('0.');
  return {
    cniVersion,
    interfaces: [
      { name: attachment.hostIfname, mac: attachment.hostMac },
      { name: attachment.podIfname, mac: attachment.podMac, sandbox: attachment.netns },
    ],
    ips: [{ ...(beforeV1 ? { version: '4' as const } : {}), address: `${attachment.ipv4}/32`, gateway: attachment.gateway, interface: 1 }],
    routes: [{ dst: `${attachment.gateway}/32` }, { dst: '0.0.0.0/0', gw: attachment.gateway }],
    dns,
  };
}
