// Strict schema validation of Kubernetes objects without a cluster: the OpenAPI schemas of
// Kubernetes 1.34 (kubernetes-models), KEDA (@kubernetes-models/keda) and the Prometheus Operator
// (@kubernetes-models/prometheus-operator), compiled by ajv into each model class's validate().
//
// Those schemas check types, required fields and enums but, like Kubernetes' own OpenAPI, they do
// not forbid unknown fields: `replica: 2` or `readinesProbe:` would pass, and the API server would
// drop or refuse them later (CRD fields are silently pruned). So the check is strict the way
// `kubeconform -strict` is: while the validator runs, a Proxy records which fields it looked up in
// every object. The compiled validator reads each property its schema declares (present or not)
// and iterates the keys of maps (labels, resources), so a key it never read is a key the schema
// does not know. An object of which it read nothing at all is free-form in the schema
// (x-kubernetes-preserve-unknown-fields) and is left alone.
import * as apps from 'kubernetes-models/apps/v1';
import * as batch from 'kubernetes-models/batch/v1';
import * as policy from 'kubernetes-models/policy/v1';
import * as core from 'kubernetes-models/v1';
import * as keda from '@kubernetes-models/keda/keda.sh/v1alpha1';
import * as monitoring from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import type { KubeObject } from './kustomize-build.js';

interface ModelClass {
  apiVersion: string;
  kind: string;
  prototype: { validate(): void };
}

function isModelClass(v: unknown): v is ModelClass {
  if (typeof v !== 'function') return false;
  const c = v as unknown as Partial<ModelClass>;
  return typeof c.apiVersion === 'string' && typeof c.kind === 'string' && typeof c.prototype?.validate === 'function';
}

/** "apiVersion/kind" -> model class, for every top-level kind of the groups deploy/kubernetes uses. */
const MODELS = new Map<string, ModelClass>(
  [core, apps, batch, policy, keda, monitoring].flatMap((group) => Object.values(group).filter(isModelClass).map((c) => [`${c.apiVersion}/${c.kind}`, c] as const)),
);

/** Whether a schema is known for this apiVersion and kind. */
export function hasSchema(apiVersion: string, kind: string): boolean {
  return MODELS.has(`${apiVersion}/${kind}`);
}

/** Wraps `value` so that every property the validator looks up is recorded per object path. */
function tracked(value: unknown, at: string, reads: Map<string, { object: object; keys: Set<string> }>): unknown {
  if (value === null || typeof value !== 'object') return value;
  const keys = new Set<string>();
  reads.set(at, { object: value, keys });
  const children = new Map<string, unknown>();
  return new Proxy(value, {
    get(target, key, receiver) {
      const v: unknown = Reflect.get(target, key, receiver);
      if (typeof key !== 'string') return v;
      keys.add(key);
      if (v === null || typeof v !== 'object') return v;
      if (!children.has(key)) children.set(key, tracked(v, `${at}/${key}`, reads));
      return children.get(key);
    },
    has(target, key) {
      if (typeof key === 'string') keys.add(key);
      return Reflect.has(target, key);
    },
  });
}

/**
 * Problems of one object against its schema, each as "<kind>/<name><json path>: reason"; empty
 * when it is valid. Unknown fields count as problems; so does a kind without a known schema.
 */
export function schemaProblems(obj: KubeObject): string[] {
  const name = `${obj.kind}/${obj.metadata.name}`;
  const model = MODELS.get(`${obj.apiVersion}/${obj.kind}`);
  if (!model) return [`${name}: no schema for apiVersion ${obj.apiVersion} kind ${obj.kind}`];
  const problems: string[] = [];
  const reads = new Map<string, { object: object; keys: Set<string> }>();
  try {
    model.prototype.validate.call(tracked(obj, '', reads));
  } catch (err) {
    problems.push(...(err instanceof Error ? err.message : String(err)).split(', ').map((m) => `${name}: ${m}`));
  }
  for (const [at, { object, keys }] of reads) {
    if (Array.isArray(object) || keys.size === 0) continue;
    for (const key of Object.keys(object)) if (!keys.has(key)) problems.push(`${name}: ${at}/${key} is not a field of the schema`);
  }
  return problems;
}
