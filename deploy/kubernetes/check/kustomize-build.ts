// `kustomize build` for the subset of kustomize deploy/kubernetes uses, so CI renders the overlays
// without a kustomize or kubectl binary (neither installs from npm or Debian bookworm). Supported:
// resources (files and folders with a kustomization.yaml), namespace, images, and patches that are
// RFC 6902 JSON patches in a file, aimed by kind + name. Any other kustomization field is refused
// instead of being ignored: a manifest must never validate here and render differently in
// `kubectl apply -k`. kustomize-build.spec.ts compares the output with `kubectl kustomize` where
// kubectl is installed.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';

export type KubeObject = Record<string, unknown> & { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } & Record<string, unknown> };

interface ImageOverride {
  name: string;
  newName?: string;
  newTag?: string;
}

interface PatchRef {
  target: { kind: string; name: string };
  path: string;
}

interface JsonPatchOp {
  op: 'add' | 'replace' | 'remove' | 'test';
  path: string;
  value?: unknown;
}

const SUPPORTED_FIELDS = new Set(['apiVersion', 'kind', 'namespace', 'resources', 'images', 'patches']);

/** Kinds that live outside namespaces (those kustomize would not give the namespace to). */
const CLUSTER_SCOPED = new Set(['Namespace', 'PersistentVolume', 'StorageClass', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'PriorityClass', 'IngressClass']);

export class KustomizeError extends Error {
  override name = 'KustomizeError';
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Every YAML document of a file, as Kubernetes objects (empty documents skipped). */
export function loadObjects(file: string): KubeObject[] {
  const docs = yaml.loadAll(readFileSync(file, 'utf8')).filter((d) => d !== null && d !== undefined);
  return docs.map((doc, i) => {
    const meta = isRecord(doc) ? doc.metadata : undefined;
    if (!isRecord(doc) || typeof doc.apiVersion !== 'string' || typeof doc.kind !== 'string' || !isRecord(meta) || typeof meta.name !== 'string') {
      throw new KustomizeError(`${file}: document ${i + 1} is not a Kubernetes object (apiVersion, kind and metadata.name are required)`);
    }
    return doc as KubeObject;
  });
}

function readKustomization(dir: string): Record<string, unknown> {
  const file = path.join(dir, 'kustomization.yaml');
  const doc = yaml.load(readFileSync(file, 'utf8'));
  if (!isRecord(doc) || doc.kind !== 'Kustomization') throw new KustomizeError(`${file}: not a Kustomization`);
  for (const key of Object.keys(doc)) {
    if (!SUPPORTED_FIELDS.has(key)) throw new KustomizeError(`${file}: field "${key}" is not supported by this renderer (supported: ${[...SUPPORTED_FIELDS].join(', ')})`);
  }
  return doc;
}

function stringList(file: string, field: string, value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new KustomizeError(`${file}: ${field} must be a list of paths`);
  return value;
}

/** RFC 6901 pointer into a parent and its last key. */
function resolvePointer(doc: unknown, pointer: string, where: string): { parent: Record<string, unknown> | unknown[]; key: string } {
  if (!pointer.startsWith('/')) throw new KustomizeError(`${where}: path "${pointer}" must start with /`);
  const parts = pointer.slice(1).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  const key = parts.pop() as string;
  let node: unknown = doc;
  for (const part of parts) {
    node = Array.isArray(node) ? node[Number(part)] : isRecord(node) ? node[part] : undefined;
    if (node === undefined) throw new KustomizeError(`${where}: path "${pointer}" does not exist`);
  }
  if (!Array.isArray(node) && !isRecord(node)) throw new KustomizeError(`${where}: path "${pointer}" does not exist`);
  return { parent: node, key };
}

function arrayIndex(arr: unknown[], key: string, allowEnd: boolean, where: string): number {
  if (allowEnd && key === '-') return arr.length;
  const index = /^\d+$/.test(key) ? Number(key) : NaN;
  if (!(index >= 0 && index < arr.length + (allowEnd ? 1 : 0))) throw new KustomizeError(`${where}: index ${key} is out of range`);
  return index;
}

/** Applies RFC 6902 operations (add, replace, remove, test) in place. */
export function applyJsonPatch(doc: KubeObject, ops: JsonPatchOp[], where: string): void {
  for (const [i, op] of ops.entries()) {
    const at = `${where} op ${i + 1} (${op.op} ${op.path})`;
    const { parent, key } = resolvePointer(doc, op.path, at);
    const value = structuredClone(op.value);
    switch (op.op) {
      case 'add':
        if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, true, at), 0, value);
        else parent[key] = value;
        break;
      case 'replace':
        if (Array.isArray(parent)) parent[arrayIndex(parent, key, false, at)] = value;
        else if (key in parent) parent[key] = value;
        else throw new KustomizeError(`${at}: nothing to replace`);
        break;
      case 'remove':
        if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, false, at), 1);
        else if (key in parent) delete parent[key];
        else throw new KustomizeError(`${at}: nothing to remove`);
        break;
      case 'test': {
        const actual = Array.isArray(parent) ? parent[arrayIndex(parent, key, false, at)] : parent[key];
        if (JSON.stringify(actual) !== JSON.stringify(op.value)) throw new KustomizeError(`${at}: expected ${JSON.stringify(op.value)}, found ${JSON.stringify(actual)}`);
        break;
      }
      default:
        throw new KustomizeError(`${at}: unsupported op`);
    }
  }
}

function podSpecs(obj: KubeObject): Record<string, unknown>[] {
  const spec = obj.spec;
  if (!isRecord(spec)) return [];
  if (obj.kind === 'Pod') return [spec];
  const template = isRecord(spec.jobTemplate) && isRecord(spec.jobTemplate.spec) ? spec.jobTemplate.spec.template : spec.template;
  return isRecord(template) && isRecord(template.spec) ? [template.spec] : [];
}

/** kustomize's `images`: an image whose name (before tag or digest) matches gets the new name/tag. */
function setImages(obj: KubeObject, images: ImageOverride[]): void {
  for (const spec of podSpecs(obj)) {
    for (const list of [spec.initContainers, spec.containers]) {
      if (!Array.isArray(list)) continue;
      for (const container of list) {
        if (!isRecord(container) || typeof container.image !== 'string') continue;
        const image = container.image;
        const name = image.replace(/@.*$/, '').replace(/:[^/:]*$/, '');
        const override = images.find((o) => o.name === name);
        if (!override) continue;
        const tag = image.slice(name.length);
        container.image = `${override.newName ?? name}${override.newTag === undefined ? tag : `:${override.newTag}`}`;
      }
    }
  }
}

/** Renders the kustomization in `dir` into the list of objects `kustomize build` would print. */
export function kustomizeBuild(dir: string): KubeObject[] {
  const file = path.join(dir, 'kustomization.yaml');
  const k = readKustomization(dir);
  const objects: KubeObject[] = [];
  for (const entry of stringList(file, 'resources', k.resources)) {
    const target = path.resolve(dir, entry);
    objects.push(...(statSync(target).isDirectory() ? kustomizeBuild(target) : loadObjects(target)));
  }

  const patches = k.patches ?? [];
  if (!Array.isArray(patches)) throw new KustomizeError(`${file}: patches must be a list`);
  for (const p of patches as PatchRef[]) {
    if (!isRecord(p) || !isRecord(p.target) || typeof p.path !== 'string' || Object.keys(p).some((key) => key !== 'target' && key !== 'path')) {
      throw new KustomizeError(`${file}: each patch needs exactly target {kind, name} and path (a JSON 6902 patch file)`);
    }
    const ops = yaml.load(readFileSync(path.resolve(dir, p.path), 'utf8'));
    if (!Array.isArray(ops)) throw new KustomizeError(`${file}: ${p.path} is not a JSON 6902 patch (a list of operations)`);
    const matches = objects.filter((o) => o.kind === p.target.kind && o.metadata.name === p.target.name);
    if (matches.length === 0) throw new KustomizeError(`${file}: patch ${p.path} targets ${p.target.kind}/${p.target.name}, which is not among the resources`);
    for (const o of matches) applyJsonPatch(o, ops as JsonPatchOp[], `${p.path} on ${o.kind}/${o.metadata.name}`);
  }

  if (k.namespace !== undefined) {
    if (typeof k.namespace !== 'string') throw new KustomizeError(`${file}: namespace must be a string`);
    for (const o of objects) if (!CLUSTER_SCOPED.has(o.kind)) o.metadata.namespace = k.namespace;
  }
  const images = (k.images ?? []) as ImageOverride[];
  if (!Array.isArray(images)) throw new KustomizeError(`${file}: images must be a list`);
  for (const o of objects) setImages(o, images);
  return objects;
}
