// metav1.Status: the error body every Kubernetes client understands. Reasons and wording follow
// kube-apiserver's (k8s.io/apimachinery/pkg/api/errors), because kubectl prints `message` as is and
// client libraries branch on `reason` and `code`.

export type StatusReason =
  | 'BadRequest'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Invalid'
  | 'Gone'
  | 'Expired'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'UnsupportedMediaType'
  | 'RequestEntityTooLarge'
  | 'TooManyRequests'
  | 'Timeout'
  | 'ServiceUnavailable'
  | 'InternalError'
  | 'Forbidden';

export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never> | { resourceVersion?: string };
  status: 'Success' | 'Failure';
  message?: string;
  reason?: StatusReason;
  details?: StatusDetails;
  code: number;
}

/** A failure the HTTP edge answers with its Status body and code; thrown by the storage core. */
export class StatusError extends Error {
  readonly status: Status;

  constructor(code: number, reason: StatusReason, message: string, details?: StatusDetails) {
    super(message);
    this.name = 'StatusError';
    this.status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
    if (details) this.status.details = details;
  }

  get code(): number {
    return this.status.code;
  }
}

/** What a Status names the resource by: `pods`, `deployments.apps`. */
export interface QualifiedResource {
  group: string;
  plural: string;
}

function qualified(resource: QualifiedResource): string {
  return resource.group ? `${resource.plural}.${resource.group}` : resource.plural;
}

export function notFound(resource: QualifiedResource, name: string): StatusError {
  return new StatusError(404, 'NotFound', `${qualified(resource)} "${name}" not found`, {
    name,
    group: resource.group,
    kind: resource.plural,
  });
}

export function alreadyExists(resource: QualifiedResource, name: string): StatusError {
  return new StatusError(409, 'AlreadyExists', `${qualified(resource)} "${name}" already exists`, {
    name,
    group: resource.group,
    kind: resource.plural,
  });
}

export function conflict(resource: QualifiedResource, name: string, why: string): StatusError {
  return new StatusError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(resource)} "${name}": ${why}`, {
    name,
    group: resource.group,
    kind: resource.plural,
  });
}

export function invalid(group: string, kind: string, name: string, causes: StatusCause[]): StatusError {
  const summary = causes.map((cause) => (cause.field ? `${cause.field}: ${cause.message}` : cause.message)).join(', ');
  const what = kind ? `${kind} "${name}"` : `"${name}"`;
  return new StatusError(422, 'Invalid', `${what} is invalid: ${summary}`, { name, group, kind, causes });
}

export function badRequest(message: string): StatusError {
  return new StatusError(400, 'BadRequest', message);
}

export function expired(message: string): StatusError {
  return new StatusError(410, 'Expired', message);
}

export function methodNotAllowed(message: string): StatusError {
  return new StatusError(405, 'MethodNotAllowed', message);
}

export function requestEntityTooLarge(limitBytes: number): StatusError {
  return new StatusError(413, 'RequestEntityTooLarge', `the request body is larger than ${limitBytes} bytes, the limit of this server`);
}

export function unsupportedMediaType(contentType: string, supported: readonly string[]): StatusError {
  return new StatusError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: ${supported.join(', ')} (got ${JSON.stringify(contentType)})`,
  );
}

export function tooManyRequests(message: string): StatusError {
  return new StatusError(429, 'TooManyRequests', message, { retryAfterSeconds: 1 });
}

export function serviceUnavailable(message: string): StatusError {
  return new StatusError(503, 'ServiceUnavailable', message);
}

export function internalError(message: string): StatusError {
  return new StatusError(500, 'InternalError', `Internal error occurred: ${message}`);
}

export function successStatus(details?: StatusDetails): Status {
  const status: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 200 };
  if (details) status.details = details;
  return status;
}
