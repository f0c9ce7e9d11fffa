export type { EventTypeFilter, FilterProtocol, FlowFilter, FlowFilterField, WorkloadFilter } from './flowFilter.ts';
export { FILTER_PROTOCOLS, FLOW_FILTER_FIELDS } from './flowFilter.ts';
export { FilterError } from './filterError.ts';
export { validateFilters } from './validateFilters.ts';
export { compileFilters, type FlowPredicate } from './compileFilters.ts';
export { parseLabelSelector, matchesLabelSelector, type LabelSelector } from './labelSelector.ts';
export { parseIpPrefix } from './ipMatcher.ts';
export { MAX_NAMESPACE_NAME_LENGTH, namespaceNameProblem } from './namespaceName.ts';
