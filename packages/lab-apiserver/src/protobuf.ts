// Kubernetes' protobuf encoding, decoded for the few kinds kubectl ≥ 1.32 sends that way: its
// typed generators (`kubectl create namespace|configmap|secret|serviceaccount|deployment|service`)
// post `application/vnd.kubernetes.protobuf` bodies, and no client-side fallback to JSON exists
// for protobuf. The body is the `k8s\0` magic, then a runtime.Unknown envelope (typeMeta, raw) whose
// raw bytes are the object's message. Field numbers come from k8s.io/api's generated.proto. A
// non-empty field this table does not know fails the request (415) rather than being dropped.
import { isJsonObject, type JsonObject, type JsonValue } from './kubeObject.ts';
import { badRequest, StatusError } from './status.ts';

type Scalar = 'string' | 'bytes' | 'bool' | 'int32' | 'int64';
type FieldType = Scalar | 'time' | 'intOrString' | 'quantity' | { message: string } | { map: 'string' | 'bytes' | 'quantity' };

interface Field {
  name: string;
  type: FieldType;
  repeated?: boolean;
  /** A Go pointer field: sent only when set, so its zero value is meaningful and kept. */
  pointer?: boolean;
}

type Schema = Record<number, Field>;

const f = (name: string, type: FieldType, options: { repeated?: boolean; pointer?: boolean } = {}): Field => ({ name, type, ...options });
const message = (name: string) => ({ message: name });
const stringMap = { map: 'string' } as const;

const schemas: Record<string, Schema> = {
  ObjectMeta: {
    1: f('name', 'string'),
    2: f('generateName', 'string'),
    3: f('namespace', 'string'),
    5: f('uid', 'string'),
    6: f('resourceVersion', 'string'),
    7: f('generation', 'int64'),
    8: f('creationTimestamp', 'time'),
    11: f('labels', stringMap),
    12: f('annotations', stringMap),
    13: f('ownerReferences', message('OwnerReference'), { repeated: true }),
    14: f('finalizers', 'string', { repeated: true }),
  },
  OwnerReference: { 1: f('kind', 'string'), 3: f('name', 'string'), 4: f('uid', 'string'), 5: f('apiVersion', 'string'), 6: f('controller', 'bool', { pointer: true }), 7: f('blockOwnerDeletion', 'bool', { pointer: true }) },
  LabelSelector: { 1: f('matchLabels', stringMap), 2: f('matchExpressions', message('LabelSelectorRequirement'), { repeated: true }) },
  LabelSelectorRequirement: { 1: f('key', 'string'), 2: f('operator', 'string'), 3: f('values', 'string', { repeated: true }) },
  Namespace: { 1: f('metadata', message('ObjectMeta')), 2: f('spec', message('NamespaceSpec')), 3: f('status', message('NamespaceStatus')) },
  NamespaceSpec: { 1: f('finalizers', 'string', { repeated: true }) },
  NamespaceStatus: { 1: f('phase', 'string') },
  ConfigMap: { 1: f('metadata', message('ObjectMeta')), 2: f('data', stringMap), 3: f('binaryData', { map: 'bytes' }), 4: f('immutable', 'bool', { pointer: true }) },
  Secret: { 1: f('metadata', message('ObjectMeta')), 2: f('data', { map: 'bytes' }), 3: f('type', 'string'), 4: f('stringData', stringMap), 5: f('immutable', 'bool', { pointer: true }) },
  ServiceAccount: {
    1: f('metadata', message('ObjectMeta')),
    2: f('secrets', message('ObjectReference'), { repeated: true }),
    3: f('imagePullSecrets', message('LocalObjectReference'), { repeated: true }),
    4: f('automountServiceAccountToken', 'bool', { pointer: true }),
  },
  ObjectReference: { 1: f('kind', 'string'), 2: f('namespace', 'string'), 3: f('name', 'string'), 4: f('uid', 'string'), 5: f('apiVersion', 'string'), 6: f('resourceVersion', 'string'), 7: f('fieldPath', 'string') },
  LocalObjectReference: { 1: f('name', 'string') },
  Service: { 1: f('metadata', message('ObjectMeta')), 2: f('spec', message('ServiceSpec')), 3: f('status', message('ServiceStatus')) },
  ServiceSpec: {
    1: f('ports', message('ServicePort'), { repeated: true }),
    2: f('selector', stringMap),
    3: f('clusterIP', 'string'),
    4: f('type', 'string'),
    5: f('externalIPs', 'string', { repeated: true }),
    7: f('sessionAffinity', 'string'),
    8: f('loadBalancerIP', 'string'),
    9: f('loadBalancerSourceRanges', 'string', { repeated: true }),
    10: f('externalName', 'string'),
    11: f('externalTrafficPolicy', 'string'),
    12: f('healthCheckNodePort', 'int32'),
    13: f('publishNotReadyAddresses', 'bool'),
    17: f('ipFamilyPolicy', 'string', { pointer: true }),
    18: f('clusterIPs', 'string', { repeated: true }),
    19: f('ipFamilies', 'string', { repeated: true }),
    20: f('allocateLoadBalancerNodePorts', 'bool', { pointer: true }),
    21: f('loadBalancerClass', 'string', { pointer: true }),
    22: f('internalTrafficPolicy', 'string', { pointer: true }),
  },
  ServicePort: { 1: f('name', 'string'), 2: f('protocol', 'string'), 3: f('port', 'int32'), 4: f('targetPort', 'intOrString'), 5: f('nodePort', 'int32'), 6: f('appProtocol', 'string', { pointer: true }) },
  ServiceStatus: { 1: f('loadBalancer', message('LoadBalancerStatus')) },
  LoadBalancerStatus: {},
  Deployment: { 1: f('metadata', message('ObjectMeta')), 2: f('spec', message('DeploymentSpec')), 3: f('status', message('DeploymentStatus')) },
  DeploymentSpec: {
    1: f('replicas', 'int32', { pointer: true }),
    2: f('selector', message('LabelSelector')),
    3: f('template', message('PodTemplateSpec')),
    4: f('strategy', message('DeploymentStrategy')),
    5: f('minReadySeconds', 'int32'),
    6: f('revisionHistoryLimit', 'int32', { pointer: true }),
    7: f('paused', 'bool'),
    9: f('progressDeadlineSeconds', 'int32', { pointer: true }),
  },
  DeploymentStrategy: { 1: f('type', 'string'), 2: f('rollingUpdate', message('RollingUpdateDeployment')) },
  RollingUpdateDeployment: { 1: f('maxUnavailable', 'intOrString'), 2: f('maxSurge', 'intOrString') },
  DeploymentStatus: {},
  PodTemplateSpec: { 1: f('metadata', message('ObjectMeta')), 2: f('spec', message('PodSpec')) },
  PodSpec: {
    2: f('containers', message('Container'), { repeated: true }),
    3: f('restartPolicy', 'string'),
    4: f('terminationGracePeriodSeconds', 'int64', { pointer: true }),
    6: f('dnsPolicy', 'string'),
    7: f('nodeSelector', stringMap),
    8: f('serviceAccountName', 'string'),
    10: f('nodeName', 'string'),
    11: f('hostNetwork', 'bool'),
    15: f('imagePullSecrets', message('LocalObjectReference'), { repeated: true }),
    16: f('hostname', 'string'),
    17: f('subdomain', 'string'),
    19: f('schedulerName', 'string'),
    20: f('initContainers', message('Container'), { repeated: true }),
    24: f('priorityClassName', 'string'),
  },
  Container: {
    1: f('name', 'string'),
    2: f('image', 'string'),
    3: f('command', 'string', { repeated: true }),
    4: f('args', 'string', { repeated: true }),
    5: f('workingDir', 'string'),
    6: f('ports', message('ContainerPort'), { repeated: true }),
    7: f('env', message('EnvVar'), { repeated: true }),
    8: f('resources', message('ResourceRequirements')),
    13: f('terminationMessagePath', 'string'),
    14: f('imagePullPolicy', 'string'),
    16: f('stdin', 'bool'),
    17: f('stdinOnce', 'bool'),
    18: f('tty', 'bool'),
    20: f('terminationMessagePolicy', 'string'),
  },
  ContainerPort: { 1: f('name', 'string'), 2: f('hostPort', 'int32'), 3: f('containerPort', 'int32'), 4: f('protocol', 'string'), 5: f('hostIP', 'string') },
  EnvVar: { 1: f('name', 'string'), 2: f('value', 'string') },
  ResourceRequirements: { 1: f('limits', { map: 'quantity' }), 2: f('requests', { map: 'quantity' }) },
};

/** The root message of each kind this server decodes from protobuf. */
const rootMessages: Record<string, string> = {
  'v1/Namespace': 'Namespace',
  'v1/ConfigMap': 'ConfigMap',
  'v1/Secret': 'Secret',
  'v1/ServiceAccount': 'ServiceAccount',
  'v1/Service': 'Service',
  'apps/v1/Deployment': 'Deployment',
};

export const protobufContentType = 'application/vnd.kubernetes.protobuf';
const magic = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

function unsupported(what: string): StatusError {
  return new StatusError(415, 'UnsupportedMediaType', `${what}; the lab API server decodes protobuf only for ${Object.keys(rootMessages).join(', ')}: send JSON instead (kubectl apply -f / create -f)`);
}

class Reader {
  offset = 0;
  constructor(readonly bytes: Buffer) {}

  get done(): boolean {
    return this.offset >= this.bytes.length;
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.offset >= this.bytes.length || shift > 63n) throw badRequest('protobuf body is truncated or malformed (a varint runs past the end)');
      const byte = this.bytes[this.offset] ?? 0;
      this.offset += 1;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
  }

  bytesField(): Buffer {
    const length = Number(this.varint());
    if (this.offset + length > this.bytes.length) throw badRequest('protobuf body is truncated or malformed (a field runs past the end)');
    const value = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  skip(wireType: number): boolean {
    if (wireType === 0) return this.varint() === 0n;
    if (wireType === 2) return this.bytesField().length === 0;
    if (wireType === 1 || wireType === 5) {
      this.offset += wireType === 1 ? 8 : 4;
      return false;
    }
    throw badRequest(`protobuf body uses wire type ${wireType}, which Kubernetes objects never use`);
  }
}

type Decoded = { value: JsonValue; empty: boolean };

function decodeScalar(type: Scalar, reader: Reader, wireType: number): Decoded {
  if (type === 'string' || type === 'bytes') {
    if (wireType !== 2) throw badRequest(`protobuf field of type ${type} has wire type ${wireType}`);
    const raw = reader.bytesField();
    return { value: type === 'string' ? raw.toString('utf8') : raw.toString('base64'), empty: raw.length === 0 };
  }
  const number = reader.varint();
  if (type === 'bool') return { value: number !== 0n, empty: number === 0n };
  const signed = Number(BigInt.asIntN(type === 'int32' ? 32 : 64, number));
  return { value: signed, empty: signed === 0 };
}

function decodeMapEntry(bytes: Buffer, valueType: 'string' | 'bytes' | 'quantity'): [string, JsonValue] {
  const reader = new Reader(bytes);
  let key = '';
  let value: JsonValue = valueType === 'quantity' ? '0' : '';
  while (!reader.done) {
    const tag = Number(reader.varint());
    const field = tag >> 3;
    if (field === 1 && (tag & 7) === 2) key = reader.bytesField().toString('utf8');
    else if (field === 2 && (tag & 7) === 2) {
      const raw = reader.bytesField();
      if (valueType === 'string') value = raw.toString('utf8');
      else if (valueType === 'bytes') value = raw.toString('base64');
      else value = quantityOf(raw);
    } else reader.skip(tag & 7);
  }
  return [key, value];
}

function quantityOf(bytes: Buffer): string {
  const reader = new Reader(bytes);
  let text = '0';
  while (!reader.done) {
    const tag = Number(reader.varint());
    if (tag >> 3 === 1 && (tag & 7) === 2) text = reader.bytesField().toString('utf8');
    else reader.skip(tag & 7);
  }
  return text;
}

function timeOf(bytes: Buffer): string | undefined {
  const reader = new Reader(bytes);
  let seconds = 0;
  while (!reader.done) {
    const tag = Number(reader.varint());
    if (tag >> 3 === 1 && (tag & 7) === 0) seconds = Number(BigInt.asIntN(64, reader.varint()));
    else reader.skip(tag & 7);
  }
  return seconds === 0 ? undefined : `${new Date(seconds * 1000).toISOString().slice(0, 19)}Z`;
}

function intOrStringOf(bytes: Buffer): JsonValue {
  const reader = new Reader(bytes);
  let kind = 0;
  let intValue = 0;
  let stringValue = '';
  while (!reader.done) {
    const tag = Number(reader.varint());
    const field = tag >> 3;
    if (field === 1 && (tag & 7) === 0) kind = Number(reader.varint());
    else if (field === 2 && (tag & 7) === 0) intValue = Number(BigInt.asIntN(32, reader.varint()));
    else if (field === 3 && (tag & 7) === 2) stringValue = reader.bytesField().toString('utf8');
    else reader.skip(tag & 7);
  }
  return kind === 1 ? stringValue : intValue;
}

function decodeMessage(name: string, bytes: Buffer): JsonObject {
  const schema = schemas[name];
  if (!schema) throw unsupported(`protobuf message ${name} is not known`);
  const reader = new Reader(bytes);
  const result: JsonObject = {};
  while (!reader.done) {
    const tag = Number(reader.varint());
    const number = tag >> 3;
    const wireType = tag & 7;
    const field = schema[number];
    if (!field) {
      if (!reader.skip(wireType)) throw unsupported(`field ${number} of ${name} is set, and this server does not know it`);
      continue;
    }
    let decoded: Decoded;
    const type = field.type;
    if (typeof type === 'object' && 'map' in type) {
      const [key, value] = decodeMapEntry(reader.bytesField(), type.map);
      const map = isJsonObject(result[field.name]) ? (result[field.name] as JsonObject) : {};
      map[key] = value;
      result[field.name] = map;
      continue;
    } else if (typeof type === 'object') {
      const child = decodeMessage(type.message, reader.bytesField());
      decoded = { value: child, empty: Object.keys(child).length === 0 };
    } else if (type === 'time') {
      const time = timeOf(reader.bytesField());
      decoded = { value: time ?? '', empty: time === undefined };
    } else if (type === 'quantity') decoded = { value: quantityOf(reader.bytesField()), empty: false };
    else if (type === 'intOrString') decoded = { value: intOrStringOf(reader.bytesField()), empty: false };
    else decoded = decodeScalar(type, reader, wireType);
    if (field.repeated) {
      const list = Array.isArray(result[field.name]) ? (result[field.name] as JsonValue[]) : [];
      list.push(decoded.value);
      result[field.name] = list;
    } else if (!decoded.empty || field.pointer) result[field.name] = decoded.value;
  }
  return result;
}

/** Decodes a `application/vnd.kubernetes.protobuf` request body into the JSON object it stands for. */
export function decodeProtobufObject(body: Buffer): JsonObject {
  if (body.length < magic.length || !body.subarray(0, magic.length).equals(magic)) {
    throw badRequest('protobuf body does not start with the Kubernetes magic bytes "k8s\\x00"');
  }
  const envelope = new Reader(body.subarray(magic.length));
  let apiVersion = '';
  let kind = '';
  let raw: Buffer | undefined;
  while (!envelope.done) {
    const tag = Number(envelope.varint());
    const number = tag >> 3;
    if (number === 1 && (tag & 7) === 2) {
      const typeMeta = new Reader(envelope.bytesField());
      while (!typeMeta.done) {
        const inner = Number(typeMeta.varint());
        if (inner >> 3 === 1 && (inner & 7) === 2) apiVersion = typeMeta.bytesField().toString('utf8');
        else if (inner >> 3 === 2 && (inner & 7) === 2) kind = typeMeta.bytesField().toString('utf8');
        else typeMeta.skip(inner & 7);
      }
    } else if (number === 2 && (tag & 7) === 2) raw = envelope.bytesField();
    else envelope.skip(tag & 7);
  }
  const root = rootMessages[`${apiVersion}/${kind}`];
  if (!root) throw unsupported(`a protobuf ${apiVersion} ${kind} cannot be decoded`);
  return { apiVersion, kind, ...decodeMessage(root, raw ?? Buffer.alloc(0)) };
}
