import { Router } from 'express';
import { securityLabels } from '@tycho/agent/client';
import { namespaceIdentityLabels, policyRefKey, resolveEndpointPolicies } from '@tycho/policy';
import type { ApiCluster } from './apiCluster.ts';

/** A pod a policy selects, with the directions that policy makes default-deny for it. */
export interface SelectedPod {
  namespace: string;
  pod_name: string;
  node_name?: string;
  ingress: boolean;
  egress: boolean;
}

export interface PolicyListItem {
  kind: string;
  namespace: string;
  name: string;
  selects: SelectedPod[];
}

export interface PolicyList {
  /** The highest resourceVersion of a policy change the API has seen. */
  revision: number;
  policies: PolicyListItem[];
  /** Stored policy objects that do not parse, each with what is wrong (no agent enforces them). */
  invalid?: string[];
}

/**
 * The policies stored in the Kubernetes API, each with the pods it selects: selection is
 * computed here from the pods' labels and their namespaces' labels, as the
 * agents compute it, so it covers pods on every node whether or not their
 * agent is connected.
 */
export function listPolicies(kube: Omit<ApiCluster, 'hasSynced'>): PolicyList {
  const { revision, policies, invalid } = kube.policies();
  const namespaceLabels = new Map(kube.listNamespaces().flatMap((ns) => (ns.metadata?.name ? [[ns.metadata.name, ns.metadata.labels ?? {}] as const] : [])));
  const pods = kube.listPods().filter((pod) => pod.metadata?.name && !pod.spec?.hostNetwork);
  const resolved = resolveEndpointPolicies(
    pods.map((pod, index) => {
      const namespace = pod.metadata?.namespace ?? 'default';
      return {
        id: index,
        identity: 0,
        labels: [...securityLabels(namespace, pod.metadata?.labels), ...namespaceIdentityLabels(namespace, namespaceLabels.get(namespace))],
      };
    }),
    { policies, identities: [], nowMs: Date.now() },
  );
  const items = policies.map((policy): PolicyListItem => {
    const key = policyRefKey(policy.ref);
    const selects: SelectedPod[] = [];
    resolved.forEach((endpoint, index) => {
      if (!endpoint.selectedBy.some((ref) => policyRefKey(ref) === key)) return;
      const pod = pods[index];
      selects.push({
        namespace: pod?.metadata?.namespace ?? 'default',
        pod_name: pod?.metadata?.name ?? '',
        ...(pod?.spec?.nodeName ? { node_name: pod.spec.nodeName } : {}),
        ingress: endpoint.ingress.enforcedBy.some((ref) => policyRefKey(ref) === key),
        egress: endpoint.egress.enforcedBy.some((ref) => policyRefKey(ref) === key),
      });
    });
    selects.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.pod_name.localeCompare(b.pod_name));
    return { ...policy.ref, selects };
  });
  return { revision, policies: items, ...(invalid.length > 0 ? { invalid } : {}) };
}

/** `GET /api/v1/policies` (docs/contracts.md, "Issue 5 control plane"). */
export function policiesRouter(kube: ApiCluster | undefined): Router {
  const router = Router();
  router.get('/api/v1/policies', (_req, res) => {
    if (!kube) {
      res.status(503).json({ error: 'no Kubernetes API: start the API with --kubeconfig (the lab passes /run/tycho/lab/kubeconfig)' });
      return;
    }
    if (!kube.hasSynced) {
      res.status(503).json({ error: 'the policy informers have not listed the Kubernetes API yet; try again shortly' });
      return;
    }
    res.json(listPolicies(kube));
  });
  return router;
}
