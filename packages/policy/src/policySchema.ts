import { z } from 'zod';

/**
 * The shape of the policy kinds Tycho accepts, field names as in the CRDs
 * and the Kubernetes API. Unknown fields are refused (a misspelt `toPort`
 * would otherwise silently allow nothing); fields Cilium has but Tycho does
 * not enforce are accepted here and refused by name in `parsePolicy.ts`.
 * Meaning (ports, CIDRs, combinations) is checked there too.
 */

const selectorOperator = z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']);

export const labelSelectorSchema = z
  .strictObject({
    matchLabels: z.record(z.string(), z.string()).optional(),
    matchExpressions: z
      .array(
        z.strictObject({
          key: z.string().min(1, 'must not be empty'),
          operator: selectorOperator,
          values: z.array(z.string()).optional(),
        }),
      )
      .optional(),
  })
  .superRefine((selector, ctx) => {
    selector.matchExpressions?.forEach((expression, i) => {
      const values = expression.values ?? [];
      if ((expression.operator === 'In' || expression.operator === 'NotIn') && values.length === 0) {
        ctx.addIssue({ code: 'custom', path: ['matchExpressions', i, 'values'], message: `operator ${expression.operator} needs at least one value` });
      }
      if ((expression.operator === 'Exists' || expression.operator === 'DoesNotExist') && values.length > 0) {
        ctx.addIssue({ code: 'custom', path: ['matchExpressions', i, 'values'], message: `operator ${expression.operator} takes no values` });
      }
    });
  });

const portValue = z.union([z.string(), z.number()], { error: 'expected a port number or a port name' });

const portProtocolSchema = z.strictObject({
  port: portValue,
  endPort: z.number({ error: 'expected a port number' }).optional(),
  protocol: z.string().optional(),
});

const fqdnSelectorSchema = z.strictObject({
  matchName: z.string().optional(),
  matchPattern: z.string().optional(),
});

const portRuleSchema = z.strictObject({
  ports: z.array(portProtocolSchema).optional(),
  rules: z
    .strictObject({
      dns: z.array(fqdnSelectorSchema).optional(),
      http: z.unknown().optional(),
      kafka: z.unknown().optional(),
      l7proto: z.unknown().optional(),
      l7: z.unknown().optional(),
    })
    .optional(),
  serverNames: z.unknown().optional(),
  terminatingTLS: z.unknown().optional(),
  originatingTLS: z.unknown().optional(),
  listener: z.unknown().optional(),
});

const portDenyRuleSchema = z.strictObject({ ports: z.array(portProtocolSchema).optional() });

const cidrRuleSchema = z.strictObject({
  cidr: z.string().optional(),
  except: z.array(z.string()).optional(),
  cidrGroupRef: z.unknown().optional(),
  cidrGroupSelector: z.unknown().optional(),
});

const unsupported = z.unknown().optional();

const ingressCommon = {
  fromEndpoints: z.array(labelSelectorSchema).optional(),
  fromCIDR: z.array(z.string()).optional(),
  fromCIDRSet: z.array(cidrRuleSchema).optional(),
  fromEntities: z.array(z.string()).optional(),
  fromRequires: unsupported,
  fromGroups: unsupported,
  fromNodes: unsupported,
  icmps: unsupported,
};

const egressCommon = {
  toEndpoints: z.array(labelSelectorSchema).optional(),
  toCIDR: z.array(z.string()).optional(),
  toCIDRSet: z.array(cidrRuleSchema).optional(),
  toEntities: z.array(z.string()).optional(),
  toRequires: unsupported,
  toServices: unsupported,
  toGroups: unsupported,
  toNodes: unsupported,
  icmps: unsupported,
};

const ingressRuleSchema = z.strictObject({ ...ingressCommon, toPorts: z.array(portRuleSchema).optional(), authentication: unsupported });
const ingressDenyRuleSchema = z.strictObject({ ...ingressCommon, toPorts: z.array(portDenyRuleSchema).optional() });
const egressRuleSchema = z.strictObject({
  ...egressCommon,
  toFQDNs: z.array(fqdnSelectorSchema).optional(),
  toPorts: z.array(portRuleSchema).optional(),
  authentication: unsupported,
});
const egressDenyRuleSchema = z.strictObject({ ...egressCommon, toPorts: z.array(portDenyRuleSchema).optional() });

export const ciliumRuleSchema = z.strictObject({
  endpointSelector: labelSelectorSchema.optional(),
  nodeSelector: unsupported,
  ingress: z.array(ingressRuleSchema).optional(),
  ingressDeny: z.array(ingressDenyRuleSchema).optional(),
  egress: z.array(egressRuleSchema).optional(),
  egressDeny: z.array(egressDenyRuleSchema).optional(),
  enableDefaultDeny: z.strictObject({ ingress: z.boolean().optional(), egress: z.boolean().optional() }).optional(),
  labels: z.array(z.unknown()).optional(),
  description: z.string().optional(),
  log: z.unknown().optional(),
});

const metadataSchema = z.looseObject({
  name: z
    .string({ error: 'missing; every policy needs a name' })
    .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'expected a DNS subdomain name (lower-case letters, digits, - and .)')
    .max(253),
  namespace: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'expected a DNS label (lower-case letters, digits and -)')
    .max(63)
    .optional(),
});

export const ciliumPolicySchema = z.looseObject({
  apiVersion: z.literal('cilium.io/v2', { error: 'expected cilium.io/v2' }),
  kind: z.enum(['CiliumNetworkPolicy', 'CiliumClusterwideNetworkPolicy']),
  metadata: metadataSchema,
  spec: ciliumRuleSchema.optional(),
  specs: z.array(ciliumRuleSchema).optional(),
});

const knpPortSchema = z.strictObject({
  port: portValue.optional(),
  endPort: z.number({ error: 'expected a port number' }).optional(),
  protocol: z.enum(['TCP', 'UDP', 'SCTP']).optional(),
});

const knpPeerSchema = z.strictObject({
  podSelector: labelSelectorSchema.optional(),
  namespaceSelector: labelSelectorSchema.optional(),
  ipBlock: z.strictObject({ cidr: z.string(), except: z.array(z.string()).optional() }).optional(),
});

export const networkPolicySchema = z.looseObject({
  apiVersion: z.literal('networking.k8s.io/v1', { error: 'expected networking.k8s.io/v1' }),
  kind: z.literal('NetworkPolicy'),
  metadata: metadataSchema,
  spec: z.strictObject({
    podSelector: labelSelectorSchema,
    policyTypes: z.array(z.enum(['Ingress', 'Egress'])).optional(),
    ingress: z.array(z.strictObject({ from: z.array(knpPeerSchema).optional(), ports: z.array(knpPortSchema).optional() })).optional(),
    egress: z.array(z.strictObject({ to: z.array(knpPeerSchema).optional(), ports: z.array(knpPortSchema).optional() })).optional(),
  }),
});

export type CiliumPolicyObject = z.infer<typeof ciliumPolicySchema>;
export type CiliumRuleObject = z.infer<typeof ciliumRuleSchema>;
export type IngressRuleObject = z.infer<typeof ingressRuleSchema>;
export type EgressRuleObject = z.infer<typeof egressRuleSchema>;
export type PortRuleObject = z.infer<typeof portRuleSchema>;
export type PortProtocolObject = z.infer<typeof portProtocolSchema>;
export type CidrRuleObject = z.infer<typeof cidrRuleSchema>;
export type FqdnSelectorObject = z.infer<typeof fqdnSelectorSchema>;
export type LabelSelectorObject = z.infer<typeof labelSelectorSchema>;
export type NetworkPolicyObject = z.infer<typeof networkPolicySchema>;
export type KnpPeerObject = z.infer<typeof knpPeerSchema>;
export type KnpPortObject = z.infer<typeof knpPortSchema>;
