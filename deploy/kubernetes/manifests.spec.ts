// The Kubernetes manifests, checked without a cluster: each overlay rendered as `kubectl apply -k`
// would, every object validated strictly against the Kubernetes 1.34 / KEDA / Prometheus Operator
// schemas (unknown fields fail), then the cross-references a schema cannot see, and the
// environment each container gets run through the apps' own parsers (loadConfig,
// parseWorkerOptions), so a missing or invalid variable fails here and not at a pod's boot.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '@fleet/config';
import { QueueName } from '@fleet/queue';
import { parseWorkerOptions } from '../../apps/worker/src/worker-options.js';
import { containerEnv, crossReferenceProblems, find, podOf, type Container } from './check/cross-references.js';
import { kustomizeBuild, loadObjects, type KubeObject } from './check/kustomize-build.js';
import { schemaProblems } from './check/schema-check.js';

const ROOT = path.join(process.cwd(), 'deploy/kubernetes');
const OVERLAYS = ['s3-artifacts', 'shared-volume'] as const;
const filesIn = (dir: string): string[] =>
  readdirSync(path.join(ROOT, dir))
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => path.join(ROOT, dir, f));
/** Secrets the README has the operator create from these examples (never committed filled in). */
const SECRETS = filesIn('secrets').flatMap(loadObjects);
const OPTIONAL = filesIn('optional').flatMap(loadObjects);

/** The keys KEDA's prometheus scaler reads; trigger metadata is a free string map in the CRD. */
const PROMETHEUS_TRIGGER_KEYS = new Set(['serverAddress', 'query', 'queryParameters', 'threshold', 'activationThreshold', 'namespace', 'customHeaders', 'ignoreNullValues', 'unsafeSsl', 'timeout', 'authModes']);

function deployment(objects: KubeObject[], name: string): { spec: NonNullable<ReturnType<typeof podOf>>['spec']; obj: KubeObject } {
  const obj = find(objects, 'Deployment', name);
  const pod = obj && podOf(obj);
  if (!obj || !pod) throw new Error(`Deployment/${name} is not rendered`);
  return { obj, spec: pod.spec };
}

function container(objects: KubeObject[], workload: string, name: string): Container {
  const { spec } = deployment(objects, workload);
  const c = [...(spec.initContainers ?? []), ...spec.containers].find((x) => x.name === name);
  if (!c) throw new Error(`${workload} has no container ${name}`);
  return c;
}

/** Whether `dir` lies on a volume the container mounts (writable when asked). */
function onMount(c: Container, dir: string, writable: boolean): boolean {
  return (c.volumeMounts ?? []).some((m) => (dir === m.mountPath || dir.startsWith(`${m.mountPath}/`)) && (!writable || m.readOnly !== true));
}

describe.each(OVERLAYS)('overlay %s', (overlay) => {
  const objects = kustomizeBuild(path.join(ROOT, 'overlays', overlay));
  const all = [...objects, ...SECRETS];

  it('renders the API, the workers, their autoscaler and the shared objects into namespace fleet', () => {
    const names = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(names).toEqual(expect.arrayContaining(['Namespace/fleet', 'ConfigMap/fleet-config', 'Deployment/fleet-api', 'Service/fleet-api', 'Deployment/fleet-worker', 'ScaledObject/fleet-worker', 'Service/fleet-postgres', 'Service/fleet-redis', 'PersistentVolumeClaim/fleet-inputs']));
    expect(objects.filter((o) => o.kind !== 'Namespace').every((o) => o.metadata.namespace === 'fleet')).toBe(true);
  });

  it('every object is valid against its schema, with no unknown field', () => {
    expect(objects.flatMap(schemaProblems)).toEqual([]);
  });

  it('selectors, ports, volumes, claims, ConfigMaps and Secrets refer to what exists', () => {
    expect(crossReferenceProblems([...objects, ...OPTIONAL], SECRETS)).toEqual([]);
  });

  it.each([
    ['fleet-api', 'api'],
    ['fleet-api', 'migrate'],
    ['fleet-worker', 'worker'],
  ])('%s container %s gets an environment the apps accept, with its folders on volumes', (workload, name) => {
    const c = container(objects, workload, name);
    const env = containerEnv(c, all);
    expect(env.NODE_ENV).toBe('production');
    // loadConfig is what every app runs at boot; NODE_ENV=production makes the URLs mandatory.
    const config = loadConfig(env, '/app');
    if (name === 'migrate') return; // it reads DATABASE_URL only
    expect(onMount(c, config.dataRoot, false)).toBe(true);
    expect(onMount(c, config.weightsRoot, false)).toBe(true);
    expect(onMount(c, config.artifactsDir, true)).toBe(true);
  });

  it('the database and Redis URLs point at the external Services', () => {
    const env = containerEnv(container(objects, 'fleet-api', 'api'), all);
    for (const url of [env.DATABASE_URL, env.REDIS_URL]) {
      const host = new URL(url ?? '').hostname;
      expect(find(objects, 'Service', host)?.spec).toMatchObject({ type: 'ExternalName' });
    }
  });

  it('runs 2 API replicas, ready on /health at the port the API listens on', () => {
    const { obj } = deployment(objects, 'fleet-api');
    expect((obj.spec as { replicas: number }).replicas).toBe(2);
    const api = container(objects, 'fleet-api', 'api');
    const port = loadConfig(containerEnv(api, all), '/app').port;
    expect(api.readinessProbe?.httpGet?.path).toBe('/health');
    expect(api.ports?.find((p) => p.name === api.readinessProbe?.httpGet?.port)?.containerPort).toBe(port);
    // Migrations run before the API in every API pod.
    expect(container(objects, 'fleet-api', 'migrate').command).toEqual(['node', 'scripts/prisma-migrate.mjs']);
  });

  it('gives each worker one GPU, the NVIDIA capabilities Vulkan needs and time to hand its job back', () => {
    const { obj, spec } = deployment(objects, 'fleet-worker');
    const worker = container(objects, 'fleet-worker', 'worker');
    const env = containerEnv(worker, all);
    expect(worker.resources?.limits?.['nvidia.com/gpu']).toBe(1);
    expect(env.NVIDIA_DRIVER_CAPABILITIES?.split(',')).toEqual(expect.arrayContaining(['graphics', 'compute', 'utility']));
    // The device plugin sets it per pod; a value here would expose every GPU of the node.
    expect(env).not.toHaveProperty('NVIDIA_VISIBLE_DEVICES');
    const [node, script, ...args] = worker.command ?? [];
    expect([node, script]).toEqual(['node', 'dist/apps/worker/src/main.js']);
    const options = parseWorkerOptions(['node', 'main.js', ...args], env);
    expect(options.gpu).toBe(0);
    // One job per worker is what the autoscaler's threshold of 1 assumes.
    expect(options.concurrency).toBe(1);
    // Longer than Kubernetes' default 30 s, and than the lock a killed worker would leave behind.
    expect(spec.terminationGracePeriodSeconds).toBeGreaterThan(options.lockDurationMs / 1000);
    expect((obj.spec as Record<string, unknown>).replicas).toBeUndefined();
  });

  it('KEDA scales the workers from 0 on queued and running train jobs read through Prometheus', () => {
    const so = find(objects, 'ScaledObject', 'fleet-worker');
    const spec = so?.spec as { scaleTargetRef: { name: string }; minReplicaCount: number; triggers: { type: string; metadata: Record<string, string> }[] };
    expect(spec.scaleTargetRef.name).toBe('fleet-worker');
    expect(spec.minReplicaCount).toBe(0);
    expect(spec.triggers).toHaveLength(1);
    const [trigger] = spec.triggers;
    expect(trigger?.type).toBe('prometheus');
    const meta = trigger?.metadata ?? {};
    expect(Object.keys(meta).filter((k) => !PROMETHEUS_TRIGGER_KEYS.has(k))).toEqual([]);
    expect(meta).toMatchObject({ threshold: '1', activationThreshold: '0', ignoreNullValues: 'false' });
    expect(meta.serverAddress).toMatch(/^https?:\/\//);
    const query = meta.query ?? '';
    expect(query).toContain(`fleet_queue_jobs{queue="${QueueName.Train}"`);
    const states = /state=~"([^"]+)"/.exec(query)?.[1]?.split('|');
    expect(states?.sort()).toEqual(['active', 'delayed', 'prioritized', 'waiting']);
    // Every API replica serves the same fleet-wide gauge: deduplicate before summing.
    expect(query).toMatch(/^sum\(max by \(queue, state\) \(/);
  });

  it('keeps checkpoints where every pod can read them', () => {
    const volumes = (name: string) => new Map((deployment(objects, name).spec.volumes ?? []).map((v) => [v.name, v]));
    for (const name of ['fleet-api', 'fleet-worker']) {
      const artifacts = volumes(name).get('artifacts');
      const main = container(objects, name, name === 'fleet-api' ? 'api' : 'worker');
      if (overlay === 'shared-volume') {
        expect(artifacts).toEqual({ name: 'artifacts', persistentVolumeClaim: { claimName: 'fleet-artifacts' } });
        expect((find(objects, 'PersistentVolumeClaim', 'fleet-artifacts')?.spec as { accessModes: string[] }).accessModes).toEqual(['ReadWriteMany']);
      } else {
        expect(main.envFrom).toContainEqual({ secretRef: { name: 'fleet-artifacts-s3' } });
        const env = containerEnv(main, all);
        expect(env.ARTIFACTS_URL).toMatch(/^s3:\/\/[^/]+\/./);
        expect(Object.keys(env)).toEqual(expect.arrayContaining(['AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']));
      }
    }
  });
});

describe('files applied on their own (secrets/, optional/)', () => {
  it('are valid against their schemas, in namespace fleet', () => {
    expect([...SECRETS, ...OPTIONAL].flatMap(schemaProblems)).toEqual([]);
    expect([...SECRETS, ...OPTIONAL].map((o) => o.metadata.namespace)).toEqual([...SECRETS, ...OPTIONAL].map(() => 'fleet'));
    expect(OPTIONAL.map((o) => o.kind).sort()).toEqual(['Pod', 'ServiceMonitor']);
  });
});

describe('the checks catch what they are for', () => {
  const base = kustomizeBuild(path.join(ROOT, 'overlays', 's3-artifacts'));
  const copy = (kind: string, name: string): KubeObject => structuredClone(find(base, kind, name) as KubeObject);

  it('an unknown field (`replica: 2`), a nested typo and a wrong type', () => {
    const typo = copy('Deployment', 'fleet-worker');
    (typo.spec as Record<string, unknown>).replica = 2;
    expect(schemaProblems(typo)).toEqual(['Deployment/fleet-worker: /spec/replica is not a field of the schema']);

    const nested = copy('Deployment', 'fleet-api');
    const api = podOf(nested)?.spec.containers[0] as unknown as Record<string, unknown>;
    api.readinesProbe = api.readinessProbe;
    delete api.readinessProbe;
    expect(schemaProblems(nested)).toEqual(['Deployment/fleet-api: /spec/template/spec/containers/0/readinesProbe is not a field of the schema']);

    const wrongType = copy('Deployment', 'fleet-api');
    (wrongType.spec as Record<string, unknown>).replicas = '2';
    expect(schemaProblems(wrongType)).toEqual(['Deployment/fleet-api: data/spec/replicas must be integer']);
  });

  it('in custom resources too (KEDA), and a kind without a schema', () => {
    const so = copy('ScaledObject', 'fleet-worker');
    (so.spec as Record<string, unknown>).minReplicaCoun = 0;
    (so.spec as { scaleTargetRef: Record<string, unknown> }).scaleTargetRef.kin = 'Deployment';
    expect(schemaProblems(so).sort()).toEqual(['ScaledObject/fleet-worker: /spec/minReplicaCoun is not a field of the schema', 'ScaledObject/fleet-worker: /spec/scaleTargetRef/kin is not a field of the schema']);
    expect(schemaProblems({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } })).toEqual(['Widget/w: no schema for apiVersion example.com/v1 kind Widget']);
  });

  it('a Service that selects no pods, a probe on an undeclared port, a missing Secret and a KEDA target that does not exist', () => {
    const objects = structuredClone(base);
    (find(objects, 'Service', 'fleet-api')?.spec as { selector: Record<string, string> }).selector['app.kubernetes.io/component'] = 'apı';
    const api = podOf(find(objects, 'Deployment', 'fleet-api') as KubeObject)?.spec.containers[0];
    if (api?.readinessProbe?.httpGet) api.readinessProbe.httpGet.port = 'htp';
    (find(objects, 'ScaledObject', 'fleet-worker')?.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name = 'fleet-workers';
    const problems = crossReferenceProblems(objects, SECRETS.filter((s) => s.metadata.name !== 'fleet-artifacts-s3'));
    expect(problems).toEqual(
      expect.arrayContaining([
        'Service/fleet-api: its selector matches no workload\'s pods',
        "Deployment/fleet-api: container api's readiness probe uses port htp, which the container does not declare",
        'Deployment/fleet-api: container api envFrom refers to Secret/fleet-artifacts-s3, which does not exist',
        'Deployment/fleet-worker: container worker envFrom refers to Secret/fleet-artifacts-s3, which does not exist',
        'ScaledObject/fleet-worker: scaleTargetRef apps/v1 Deployment/fleet-workers is not among the objects',
      ]),
    );
    expect(problems).toHaveLength(5);
  });
});
