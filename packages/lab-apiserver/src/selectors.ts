// Label and field selectors, in the text form of the `labelSelector` / `fieldSelector` query
// parameters (k8s.io/apimachinery/pkg/labels and pkg/fields), and the metav1.LabelSelector object
// form that workloads carry in spec.selector.
import { fieldAt, isJsonObject, type KubeObject } from './kubeObject.ts';
import { badRequest } from './status.ts';

type LabelRequirement =
  | { key: string; operator: 'exists' | 'notExists' }
  | { key: string; operator: 'in' | 'notIn'; values: string[] }
  | { key: string; operator: 'gt' | 'lt'; value: number };

export interface LabelSelector {
  matches(labels: Record<string, string> | undefined): boolean;
  readonly empty: boolean;
}

const labelKeyPattern = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const labelValuePattern = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Splits at commas that are not inside `( … )`, as the requirement list of a label selector is written. */
function splitRequirements(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index];
    if (char === '(') depth += 1;
    else if (char === ')') depth -= 1;
    else if (char === ',' && depth === 0) {
      parts.push(text.slice(start, index));
      start = index + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((part) => part.trim());
}

function checkKey(key: string, selector: string): string {
  if (!labelKeyPattern.test(key) || key.length > 316) {
    throw badRequest(`unable to parse requirement: invalid label key "${key}" in labelSelector "${selector}"`);
  }
  return key;
}

function checkValue(value: string, selector: string): string {
  if (!labelValuePattern.test(value) || value.length > 63) {
    throw badRequest(`unable to parse requirement: invalid label value "${value}" in labelSelector "${selector}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`);
  }
  return value;
}

function parseRequirement(part: string, selector: string): LabelRequirement {
  const setMatch = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(part);
  if (setMatch) {
    const [, key = '', operator, list = ''] = setMatch;
    const values = list.split(',').map((value) => checkValue(value.trim(), selector));
    return { key: checkKey(key, selector), operator: operator === 'in' ? 'in' : 'notIn', values };
  }
  if (part.startsWith('!')) return { key: checkKey(part.slice(1).trim(), selector), operator: 'notExists' };
  const comparison = /^([^=!<>\s]+)\s*(==|!=|=|<|>)\s*(.*)$/.exec(part);
  if (comparison) {
    const [, key = '', operator, value = ''] = comparison;
    checkKey(key, selector);
    if (operator === '<' || operator === '>') {
      const number = Number(value);
      if (!Number.isInteger(number)) throw badRequest(`unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer in labelSelector "${selector}"`);
      return { key, operator: operator === '<' ? 'lt' : 'gt', value: number };
    }
    return { key, operator: operator === '!=' ? 'notIn' : 'in', values: [checkValue(value.trim(), selector)] };
  }
  return { key: checkKey(part, selector), operator: 'exists' };
}

function requirementHolds(requirement: LabelRequirement, labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, requirement.key);
  const value = labels[requirement.key];
  switch (requirement.operator) {
    case 'exists':
      return has;
    case 'notExists':
      return !has;
    case 'in':
      return has && requirement.values.includes(value ?? '');
    case 'notIn':
      return !has || !requirement.values.includes(value ?? '');
    case 'gt':
      return has && Number.isInteger(Number(value)) && Number(value) > requirement.value;
    case 'lt':
      return has && Number.isInteger(Number(value)) && Number(value) < requirement.value;
  }
}

function selectorOf(requirements: LabelRequirement[]): LabelSelector {
  return {
    empty: requirements.length === 0,
    matches: (labels) => requirements.every((requirement) => requirementHolds(requirement, labels ?? {})),
  };
}

/** Parses `app=web,tier in (a,b),!legacy`; an empty or absent selector matches everything. */
export function parseLabelSelector(text: string | undefined): LabelSelector {
  if (text === undefined || text.trim() === '') return selectorOf([]);
  return selectorOf(splitRequirements(text).filter((part) => part !== '').map((part) => parseRequirement(part, text)));
}

/** metav1.LabelSelector (`matchLabels`, `matchExpressions`) in its text form, as Scale's status.selector carries it. */
export function labelSelectorText(selector: unknown): string {
  if (!isJsonObject(selector)) return '';
  const parts: string[] = [];
  if (isJsonObject(selector.matchLabels)) {
    for (const [key, value] of Object.entries(selector.matchLabels).sort(([a], [b]) => a.localeCompare(b))) parts.push(`${key}=${String(value)}`);
  }
  for (const expression of Array.isArray(selector.matchExpressions) ? selector.matchExpressions.filter(isJsonObject) : []) {
    const values = Array.isArray(expression.values) ? expression.values.map(String) : [];
    const key = String(expression.key ?? '');
    if (expression.operator === 'In') parts.push(`${key} in (${values.join(',')})`);
    else if (expression.operator === 'NotIn') parts.push(`${key} notin (${values.join(',')})`);
    else if (expression.operator === 'Exists') parts.push(key);
    else if (expression.operator === 'DoesNotExist') parts.push(`!${key}`);
  }
  return parts.join(',');
}

interface FieldRequirement {
  path: string[];
  value: string;
  equal: boolean;
}

export interface FieldSelector {
  matches(object: KubeObject): boolean;
  readonly empty: boolean;
  /** The value a `metadata.name=` requirement pins, which lets a list read one object instead of all. */
  readonly name?: string;
}

/** Splits at a separator that is not escaped with a backslash (`\,`, `\=` and `\\` are escapes in field selectors). */
function splitUnescaped(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index] ?? '';
    if (char === '\\' && index + 1 < text.length) {
      current += char + (text[index + 1] ?? '');
      index += 1;
    } else if (char === separator) {
      parts.push(current);
      current = '';
    } else current += char;
  }
  parts.push(current);
  return parts;
}

function unescapeFieldValue(value: string): string {
  return value.replace(/\\(.)/g, '$1');
}

function fieldText(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * Parses `metadata.name=x,spec.nodeName!=node-1`. kube-apiserver accepts a fixed set of fields per
 * resource; the double accepts equality on any field path, which covers every field it supports.
 */
export function parseFieldSelector(text: string | undefined): FieldSelector {
  if (text === undefined || text.trim() === '') return { empty: true, matches: () => true };
  const requirements: FieldRequirement[] = splitUnescaped(text, ',')
    .filter((part) => part.trim() !== '')
    .map((part) => {
      const match = /^([^=!]+?)\s*(==|!=|=)(.*)$/.exec(part.trim());
      if (!match) throw badRequest(`invalid selector: '${part}'; can't understand '${part}' in fieldSelector "${text}": expected field=value, field==value or field!=value`);
      const [, field = '', operator, value = ''] = match;
      return { path: field.trim().split('.'), value: unescapeFieldValue(value), equal: operator !== '!=' };
    });
  const nameRequirement = requirements.find((requirement) => requirement.equal && requirement.path.join('.') === 'metadata.name');
  const selector: FieldSelector = {
    empty: requirements.length === 0,
    matches: (object) =>
      requirements.every((requirement) => (fieldText(fieldAt(object, requirement.path)) === requirement.value) === requirement.equal),
  };
  return nameRequirement ? { ...selector, name: nameRequirement.value } : selector;
}
