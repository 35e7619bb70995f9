// Keeps a run's local folder (ARTIFACTS_DIR/<id>/, where the training child writes its checkpoint
// and model files) and the shared artifact store (ARTIFACTS_URL) in step: restored from the store
// before the run starts or resumes on this machine, published at each epoch boundary while the
// engine waits for the epoch to be acknowledged (so nothing changes mid-upload). The engine never
// sees the store: libs/training does no network I/O, and a checkpoint is a local file to it.
import { performance } from 'node:perf_hooks';
import { publishRunDir, restoreRunDir, type ArtifactStore } from '@fleet/artifacts';

export class RunArtifactSync {
  /** Publishes run one after another: a cancelled run's last publish may still be under way. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: ArtifactStore,
    private readonly runId: string,
    private readonly dir: string,
    private readonly log: (line: string) => void,
  ) {}

  /** Makes the local folder the store's last published state of the run (when it has one). */
  async restore(): Promise<void> {
    const restored = await restoreRunDir(this.store, this.runId, this.dir);
    if (!restored) return;
    const epoch = restored.manifest.meta.epoch;
    const fetched = restored.downloaded.length ? `downloaded ${restored.downloaded.join(', ')}` : 'the local copy was current';
    this.log(`experiment ${this.runId}: restored its artifacts of epoch ${epoch ?? '?'} from ${this.store.url} (${fetched})`);
  }

  /** Publishes the folder as the state after `epoch`; rejects when the store refused it. */
  publish(epoch: number): Promise<void> {
    const next = this.chain.then(async () => {
      const started = performance.now();
      const result = await publishRunDir(this.store, this.runId, this.dir, { epoch });
      if (!result?.uploaded.length) return;
      const mb = result.uploaded.reduce((sum, name) => sum + (result.manifest.files[name]?.bytes ?? 0), 0) / 1e6;
      this.log(`experiment ${this.runId}: epoch ${epoch} published to ${this.store.url} (${result.uploaded.join(', ')}: ${mb.toFixed(1)} MB in ${((performance.now() - started) / 1000).toFixed(2)} s)`);
    });
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** Resolves once no publish is under way (never rejects). */
  settled(): Promise<void> {
    return this.chain.then(() => undefined);
  }
}
