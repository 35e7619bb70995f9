import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { applyJsonPatch, kustomizeBuild, KustomizeError, type KubeObject } from './kustomize-build.js';

const ROOT = path.join(process.cwd(), 'deploy/kubernetes');

function kubectlAvailable(): boolean {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const byId = (objects: KubeObject[]) => Object.fromEntries(objects.map((o) => [`${o.kind}/${o.metadata.name}`, o]));

// kubectl (with kustomize built in) is no npm or Debian package; where the machine has it, the
// renderer must agree with it object for object.
(kubectlAvailable() ? describe : describe.skip)('kustomizeBuild against `kubectl kustomize`', () => {
  it.each(['s3-artifacts', 'shared-volume'])('renders overlay %s exactly as kubectl does', (overlay) => {
    const dir = path.join(ROOT, 'overlays', overlay);
    const theirs = yaml.loadAll(execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8' })) as KubeObject[];
    expect(byId(kustomizeBuild(dir))).toEqual(byId(theirs));
  });
});

describe('kustomizeBuild', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'kustomize-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const write = (file: string, content: unknown): void => writeFileSync(path.join(dir, file), typeof content === 'string' ? content : yaml.dump(content));
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'registry.example/app:1.0' }] } };

  it('sets the namespace and the image, keeping cluster-scoped objects out of the namespace', () => {
    write('pod.yaml', `${yaml.dump(pod)}---\n${yaml.dump({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns' } })}`);
    write('kustomization.yaml', { apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', namespace: 'ns', resources: ['pod.yaml'], images: [{ name: 'registry.example/app', newTag: '2.0' }] });
    const [p, ns] = kustomizeBuild(dir);
    expect(p?.metadata.namespace).toBe('ns');
    expect((p?.spec as typeof pod.spec).containers[0]?.image).toBe('registry.example/app:2.0');
    expect(ns?.metadata).toEqual({ name: 'ns' });
  });

  it('refuses kustomization fields it does not implement instead of ignoring them', () => {
    write('kustomization.yaml', { kind: 'Kustomization', commonLabels: { a: 'b' } });
    expect(() => kustomizeBuild(dir)).toThrow(/field "commonLabels" is not supported/);
  });

  it('refuses a patch whose target is not among the resources', () => {
    write('pod.yaml', pod);
    write('patch.yaml', [{ op: 'add', path: '/metadata/labels', value: {} }]);
    write('kustomization.yaml', { kind: 'Kustomization', resources: ['pod.yaml'], patches: [{ target: { kind: 'Pod', name: 'q' }, path: 'patch.yaml' }] });
    expect(() => kustomizeBuild(dir)).toThrow(/targets Pod\/q, which is not among the resources/);
  });
});

describe('applyJsonPatch (RFC 6902)', () => {
  const doc = (): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { list: ['a', 'b'], 'x/y': { '~k': 1 } } });

  it('adds, appends, replaces and removes, with ~1 and ~0 escapes', () => {
    const d = doc();
    applyJsonPatch(
      d,
      [
        { op: 'add', path: '/spec/list/-', value: 'c' },
        { op: 'add', path: '/spec/list/0', value: 'z' },
        { op: 'replace', path: '/spec/x~1y/~0k', value: 2 },
        { op: 'remove', path: '/spec/list/1' },
        { op: 'test', path: '/spec/list', value: ['z', 'b', 'c'] },
      ],
      'here',
    );
    expect(d.spec).toEqual({ list: ['z', 'b', 'c'], 'x/y': { '~k': 2 } });
  });

  it('fails on a failed test, a missing path and replacing what is not there', () => {
    expect(() => applyJsonPatch(doc(), [{ op: 'test', path: '/spec/list/0', value: 'b' }], 'here')).toThrow(new KustomizeError('here op 1 (test /spec/list/0): expected "b", found "a"'));
    expect(() => applyJsonPatch(doc(), [{ op: 'add', path: '/spec/nope/x', value: 1 }], 'here')).toThrow(/does not exist/);
    expect(() => applyJsonPatch(doc(), [{ op: 'replace', path: '/spec/nope', value: 1 }], 'here')).toThrow(/nothing to replace/);
    expect(() => applyJsonPatch(doc(), [{ op: 'remove', path: '/spec/list/5' }], 'here')).toThrow(/out of range/);
  });
});
