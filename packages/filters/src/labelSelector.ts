/**
 * Kubernetes label-selector syntax over Cilium labels, as Hubble's
 * `source_label` / `destination_label` use it. Flow labels carry a source
 * (`k8s:app=x`, `reserved:world`); a selector key with a source
 * (`k8s:app`) matches that source only, one without (`app`, or `any:app`)
 * matches the key from any source.
 */

import { shownKey } from './filterError.ts';

type Operator = 'exists' | 'notExists' | 'equals' | 'notEquals' | 'in' | 'notIn';

interface Requirement {
  /** undefined = any source. */
  source: string | undefined;
  key: string;
  operator: Operator;
  values: readonly string[];
}

export interface LabelSelector {
  readonly requirements: readonly Requirement[];
}

interface FlowLabel {
  source: string;
  key: string;
  value: string;
}

const KEY = String.raw`(?:[A-Za-z0-9_-]+:)?[A-Za-z0-9](?:[A-Za-z0-9_./-]*[A-Za-z0-9])?`;
const VALUE = String.raw`(?:[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9])?)?`;
const EXISTS = new RegExp(`^(${KEY})$`);
const NOT_EXISTS = new RegExp(`^!\\s*(${KEY})$`);
const COMPARE = new RegExp(`^(${KEY})\\s*(==|!=|=)\\s*(${VALUE})$`);
const SET = new RegExp(`^(${KEY})\\s+(in|notin)\\s*\\((.*)\\)$`);
const VALUE_ONLY = new RegExp(`^${VALUE}$`);

/** Parses a selector; throws an Error saying which requirement is malformed and why. */
export function parseLabelSelector(text: string): LabelSelector {
  if (text.trim() === '') throw new Error('empty selector; expected e.g. k8s:app=echo-a or app in (a,b)');
  return { requirements: splitRequirements(text).map(parseRequirement) };
}

/** Splits at commas outside parentheses: `a=b, c in (d,e)` → two requirements. */
function splitRequirements(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
    if (depth < 0) throw new Error(`unbalanced ')' at position ${i}`);
  }
  if (depth !== 0) throw new Error(`unclosed '('`);
  parts.push(text.slice(start));
  return parts.map((part) => part.trim());
}

function parseRequirement(text: string): Requirement {
  if (text === '') throw new Error('empty requirement (two commas in a row, or a trailing comma)');
  let match = NOT_EXISTS.exec(text);
  if (match) return requirement(match[1] ?? '', 'notExists', []);
  match = SET.exec(text);
  if (match) {
    const values = (match[3] ?? '').split(',').map((v) => v.trim());
    const bad = values.find((v) => v === '' || !VALUE_ONLY.test(v));
    if (bad !== undefined) throw new Error(`'${shownKey(text)}': ${bad === '' ? 'empty value in the set' : `'${shownKey(bad)}' is not a label value`}`);
    return requirement(match[1] ?? '', match[2] === 'in' ? 'in' : 'notIn', values);
  }
  match = COMPARE.exec(text);
  if (match) return requirement(match[1] ?? '', match[2] === '!=' ? 'notEquals' : 'equals', [match[3] ?? '']);
  match = EXISTS.exec(text);
  if (match) return requirement(match[1] ?? '', 'exists', []);
  throw new Error(`'${shownKey(text)}' is not a label requirement; expected key, !key, key=value, key!=value, key in (a,b) or key notin (a,b)`);
}

function requirement(fullKey: string, operator: Operator, values: string[]): Requirement {
  const colon = fullKey.indexOf(':');
  const source = colon === -1 ? undefined : fullKey.slice(0, colon);
  const key = colon === -1 ? fullKey : fullKey.slice(colon + 1);
  return { source: source === 'any' ? undefined : source, key, operator, values };
}

const parsedLabels = new WeakMap<readonly string[], FlowLabel[]>();

/** `k8s:app=x` → {source k8s, key app, value x}; parsed once per labels array. */
function flowLabels(labels: readonly string[]): FlowLabel[] {
  let parsed = parsedLabels.get(labels);
  if (parsed) return parsed;
  parsed = labels.map((label) => {
    const colon = label.indexOf(':');
    const equals = label.indexOf('=', colon + 1);
    const keyEnd = equals === -1 ? label.length : equals;
    return {
      source: colon === -1 ? '' : label.slice(0, colon),
      key: label.slice(colon + 1, keyEnd),
      value: equals === -1 ? '' : label.slice(equals + 1),
    };
  });
  parsedLabels.set(labels, parsed);
  return parsed;
}

function matchesRequirement(labels: readonly FlowLabel[], req: Requirement): boolean {
  let present = false;
  let valueMatches = false;
  for (const label of labels) {
    if (label.key !== req.key || (req.source !== undefined && label.source !== req.source)) continue;
    present = true;
    if (req.values.includes(label.value)) valueMatches = true;
  }
  switch (req.operator) {
    case 'exists':
      return present;
    case 'notExists':
      return !present;
    case 'equals':
    case 'in':
      return valueMatches;
    case 'notEquals':
    case 'notIn':
      return !valueMatches;
  }
}

/** Whether an endpoint's labels satisfy every requirement of the selector. */
export function matchesLabelSelector(selector: LabelSelector, labels: readonly string[] | undefined): boolean {
  const parsed = flowLabels(labels ?? []);
  return selector.requirements.every((req) => matchesRequirement(parsed, req));
}
