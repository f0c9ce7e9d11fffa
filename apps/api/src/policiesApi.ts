import { Router } from 'express';
import { securityLabels } from '@tycho/agent/client';
import type { KubeStore, PolicyCollection } from '@tycho/kube';
import { namespaceIdentityLabels, policyRefKey, resolveEndpointPolicies } from '@tycho/policy';

/** A KubeStore that also holds namespaces and the policies collection (the lab's DirectoryKubeStore). */
type PolicyKubeStore = KubeStore & {
  readonly policies: PolicyCollection;
  listNamespaces(): { metadata?: { name?: string; labels?: Record<string, string> } }[];
};

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
  revision: number;
  policies: PolicyListItem[];
}

function hasPolicies(kube: KubeStore | undefined): kube is PolicyKubeStore {
  return kube !== undefined && 'policies' in kube && 'listNamespaces' in kube;
}

/**
 * The policies of the KubeStore, each with the pods it selects: selection is
 * computed here from the pods' labels and their namespaces' labels, as the
 * agents compute it, so it covers pods on every node whether or not their
 * agent is connected.
 */
export function listPolicies(kube: PolicyKubeStore): PolicyList {
  const { revision, policies } = kube.policies.policies();
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
  return { revision, policies: items };
}

/** `GET /api/v1/policies` (docs/contracts.md, "Issue 5 control plane"). */
export function policiesRouter(kube: KubeStore | undefined): Router {
  const router = Router();
  router.get('/api/v1/policies', (_req, res) => {
    if (!hasPolicies(kube)) {
      res.status(503).json({ error: 'no policy store: start the API with --kube-dir (the lab passes /run/tycho/lab/kube)' });
      return;
    }
    res.json(listPolicies(kube));
  });
  return router;
}
