// What a schema cannot see: whether the objects of a deployment fit together. Each check returns
// problems as "<kind>/<name>: reason" (empty when all is well), so a spec can show every one.
import type { KubeObject } from './kustomize-build.js';

type Rec = Record<string, unknown>;

export interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: { name: string; value?: string; valueFrom?: { configMapKeyRef?: { name: string; key: string }; secretKeyRef?: { name: string; key: string } } }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  resources?: { requests?: Record<string, string | number>; limits?: Record<string, string | number> };
}

interface Probe {
  httpGet?: { path?: string; port: string | number };
  tcpSocket?: { port: string | number };
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: ({ name: string } & Rec)[];
  terminationGracePeriodSeconds?: number;
}

/** The pod template's labels and spec of a workload (Deployment, Job) or a Pod itself. */
export function podOf(obj: KubeObject): { labels: Record<string, string>; spec: PodSpec } | undefined {
  const spec = obj.spec as Rec | undefined;
  if (obj.kind === 'Pod') return { labels: (obj.metadata.labels ?? {}) as Record<string, string>, spec: spec as unknown as PodSpec };
  const template = spec?.template as { metadata?: { labels?: Record<string, string> }; spec: PodSpec } | undefined;
  return template ? { labels: template.metadata?.labels ?? {}, spec: template.spec } : undefined;
}

export function find(objects: KubeObject[], kind: string, name: string): KubeObject | undefined {
  return objects.find((o) => o.kind === kind && o.metadata.name === name);
}

function id(o: KubeObject): string {
  return `${o.kind}/${o.metadata.name}`;
}

function selects(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  return selector !== undefined && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** Pods of the workloads whose template labels a selector matches. */
function selectedWorkloads(objects: KubeObject[], selector: Record<string, string> | undefined): KubeObject[] {
  return objects.filter((o) => o.kind !== 'Pod' && podOf(o) !== undefined && selects(selector, podOf(o)?.labels ?? {}));
}

function portMatches(container: Container, port: string | number): boolean {
  return (container.ports ?? []).some((p) => (typeof port === 'string' ? p.name === port : p.containerPort === port));
}

/** Data keys of a ConfigMap or Secret (data and stringData). */
function keysOf(o: KubeObject): Set<string> {
  return new Set([...Object.keys((o.data as Rec | undefined) ?? {}), ...Object.keys((o.stringData as Rec | undefined) ?? {})]);
}

/**
 * Cross-references of a rendered deployment plus the Secrets it expects to find in the cluster
 * (the secrets/*.example.yaml files): selectors, ports, volumes, claims, ConfigMap and Secret
 * names and keys, the KEDA target, the ServiceMonitor's Service.
 */
export function crossReferenceProblems(objects: KubeObject[], externalSecrets: KubeObject[]): string[] {
  const problems: string[] = [];
  const all = [...objects, ...externalSecrets];
  const namespaces = new Set(all.filter((o) => o.kind !== 'Namespace').map((o) => o.metadata.namespace));
  if (namespaces.size !== 1 || namespaces.has(undefined)) problems.push(`all objects must share one namespace (found: ${[...namespaces].map(String).join(', ')})`);

  for (const o of objects) {
    const pod = podOf(o);
    if (pod && o.kind !== 'Pod') {
      const selector = ((o.spec as Rec).selector as { matchLabels?: Record<string, string> } | undefined)?.matchLabels;
      if (!selects(selector, pod.labels)) problems.push(`${id(o)}: spec.selector.matchLabels does not match the pod template's labels`);
    }
    if (pod) problems.push(...podProblems(o, pod.spec, all));

    if (o.kind === 'Service' && (o.spec as Rec).type !== 'ExternalName') {
      const spec = o.spec as { selector?: Record<string, string>; ports?: { port: number; targetPort?: string | number }[] };
      const targets = selectedWorkloads(objects, spec.selector);
      if (targets.length === 0) problems.push(`${id(o)}: its selector matches no workload's pods`);
      for (const port of spec.ports ?? []) {
        const target = port.targetPort ?? port.port;
        for (const w of targets) {
          if (!podOf(w)?.spec.containers.some((c) => portMatches(c, target))) problems.push(`${id(o)}: targetPort ${target} is not a port of ${id(w)}'s containers`);
        }
      }
    }
    if (o.kind === 'PodDisruptionBudget') {
      const selector = ((o.spec as Rec).selector as { matchLabels?: Record<string, string> } | undefined)?.matchLabels;
      if (selectedWorkloads(objects, selector).length === 0) problems.push(`${id(o)}: its selector matches no workload's pods`);
    }
    if (o.kind === 'ScaledObject') {
      const ref = (o.spec as { scaleTargetRef: { apiVersion?: string; kind?: string; name: string } }).scaleTargetRef;
      const target = find(objects, ref.kind ?? 'Deployment', ref.name);
      if (!target || (target.apiVersion !== (ref.apiVersion ?? 'apps/v1'))) problems.push(`${id(o)}: scaleTargetRef ${ref.apiVersion ?? 'apps/v1'} ${ref.kind ?? 'Deployment'}/${ref.name} is not among the objects`);
      else if ((target.spec as Rec).replicas !== undefined) problems.push(`${id(o)}: ${id(target)} sets spec.replicas, which every apply would reset under the autoscaler`);
    }
    if (o.kind === 'ServiceMonitor') {
      const spec = o.spec as { selector: { matchLabels?: Record<string, string> }; endpoints: { port?: string }[] };
      const services = objects.filter((s) => s.kind === 'Service' && selects(spec.selector.matchLabels, s.metadata.labels as Record<string, string>));
      if (services.length === 0) problems.push(`${id(o)}: its selector matches no Service's labels`);
      for (const e of spec.endpoints) {
        for (const s of services) {
          if (!((s.spec as { ports?: { name?: string }[] }).ports ?? []).some((p) => p.name === e.port)) problems.push(`${id(o)}: port "${e.port}" is not a named port of ${id(s)}`);
        }
      }
    }
  }
  return problems;
}

function podProblems(owner: KubeObject, spec: PodSpec, all: KubeObject[]): string[] {
  const problems: string[] = [];
  const volumes = new Map((spec.volumes ?? []).map((v) => [v.name, v]));
  for (const v of volumes.values()) {
    const claim = (v.persistentVolumeClaim as { claimName?: string } | undefined)?.claimName;
    if (claim && !find(all, 'PersistentVolumeClaim', claim)) problems.push(`${id(owner)}: volume ${v.name} claims PersistentVolumeClaim/${claim}, which does not exist`);
  }
  const needObject = (kind: 'ConfigMap' | 'Secret', name: string, key: string | undefined, where: string): void => {
    const o = find(all, kind, name);
    if (!o) problems.push(`${id(owner)}: ${where} refers to ${kind}/${name}, which does not exist`);
    else if (key !== undefined && !keysOf(o).has(key)) problems.push(`${id(owner)}: ${where} refers to key ${key} of ${kind}/${name}, which it does not have`);
  };
  for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
    const where = `container ${c.name}`;
    for (const m of c.volumeMounts ?? []) if (!volumes.has(m.name)) problems.push(`${id(owner)}: ${where} mounts volume ${m.name}, which the pod does not define`);
    for (const e of c.envFrom ?? []) {
      if (e.configMapRef) needObject('ConfigMap', e.configMapRef.name, undefined, `${where} envFrom`);
      if (e.secretRef) needObject('Secret', e.secretRef.name, undefined, `${where} envFrom`);
    }
    for (const e of c.env ?? []) {
      const cm = e.valueFrom?.configMapKeyRef;
      const secret = e.valueFrom?.secretKeyRef;
      if (cm) needObject('ConfigMap', cm.name, cm.key, `${where} env ${e.name}`);
      if (secret) needObject('Secret', secret.name, secret.key, `${where} env ${e.name}`);
    }
    for (const [kind, probe] of [['readiness', c.readinessProbe], ['liveness', c.livenessProbe], ['startup', c.startupProbe]] as const) {
      const port = probe?.httpGet?.port ?? probe?.tcpSocket?.port;
      if (port !== undefined && !portMatches(c, port)) problems.push(`${id(owner)}: ${where}'s ${kind} probe uses port ${port}, which the container does not declare`);
    }
  }
  return problems;
}

/**
 * The environment a container starts with: envFrom (in order) then env, with ConfigMap and Secret
 * values resolved from `all`. Secrets' stringData is taken as is (the example files use it).
 */
export function containerEnv(container: Container, all: KubeObject[]): Record<string, string> {
  const values = (kind: 'ConfigMap' | 'Secret', name: string): Record<string, string> => {
    const o = find(all, kind, name);
    return { ...((o?.data as Record<string, string> | undefined) ?? {}), ...((o?.stringData as Record<string, string> | undefined) ?? {}) };
  };
  const env: Record<string, string> = {};
  for (const e of container.envFrom ?? []) {
    if (e.configMapRef) Object.assign(env, values('ConfigMap', e.configMapRef.name));
    if (e.secretRef) Object.assign(env, values('Secret', e.secretRef.name));
  }
  for (const e of container.env ?? []) {
    const cm = e.valueFrom?.configMapKeyRef;
    const secret = e.valueFrom?.secretKeyRef;
    const value = e.value ?? (cm ? values('ConfigMap', cm.name)[cm.key] : secret ? values('Secret', secret.name)[secret.key] : undefined);
    if (value !== undefined) env[e.name] = value;
  }
  return env;
}
