export * from './model.ts';
export { linkKey } from './linkKey.ts';
export { cardIdentityOf, appLabel, labelValue, parseLabel, shortPodName, type CardIdentity } from './cardIdentity.ts';
export { flowEnds, type FlowEnds, type FlowSide } from './flowEnds.ts';
export { HttpEndpoints, MAX_HTTP_ENDPOINTS_PER_CARD, pathOf, statusClassOf } from './httpEndpoints.ts';
export { LinkPolicies, MAX_POLICIES_PER_LINK, policiesOfFlow } from './linkPolicies.ts';
export { RateWindow } from './rateWindow.ts';
export { ServiceMap, type ServiceMapOptions } from './serviceMap.ts';
