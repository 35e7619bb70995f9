// bench:history — the API under a realistic history: 10 sweeps x 1000 experiments (10k) with 25
// epochs each (250k EpochMetric rows). Measures p50/p99 of GET /api/experiments pages (with and
// without filters) and of /compare on a 1000-run sweep, shows the query plans Postgres picks, then
// measures POST of a 1000-run sweep (target < 2 s) and the API's RSS over 10 such sweeps (flat).
// Targets (issue 6): history p99 < 50 ms, sweep POST < 2 s, memory flat.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { sweepQueries, type Prisma } from '@fleet/persistence';
import { percentile, rssMiB, startBenchApi } from './support/bench-api.js';

const BENCH_DB = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/finetune_fleet_bench';
const SWEEPS = 10;
const RUNS_PER_SWEEP = 1000;
const EPOCHS = 25;
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 200);
/**
 * Untimed requests per route before its timed ones: the percentiles describe a running API, not
 * its first requests after boot (pool connections opening, V8 compiling the handlers), which are
 * reported on their own line instead.
 */
const WARMUP = 5;

async function resetDatabase(): Promise<void> {
  const admin = new URL(BENCH_DB);
  const name = admin.pathname.slice(1);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await client.end();
  // Loaded from the repository root at run time: dist/ holds no copy of the scripts folder.
  const migrator = (await import(pathToFileURL(path.resolve('scripts/prisma-migrate.mjs')).href)) as typeof import('../scripts/prisma-migrate.mjs');
  await migrator.migrate({ url: BENCH_DB, log: () => undefined });
}

async function seed(db: pg.Client): Promise<string[]> {
  const t0 = performance.now();
  await db.query(`INSERT INTO "Sweep"(id, name, base, grid)
    SELECT gen_random_uuid()::text, 'bench-' || i, '{"dataset":"demo"}'::jsonb, '{"strategy":["finetune","freeze"],"seed":[0]}'::jsonb
    FROM generate_series(1, ${SWEEPS}) i`);
  await db.query(`INSERT INTO "Experiment"(id, "sweepId", "gridValues", dataset, weights, strategy, lr, "lrFactor", momentum,
      epochs, "batchSize", "imageSize", seed, "stepSize", gamma, status, attempts, "epochsDone", "bestValAcc", "bestEpoch",
      "finalValAcc", "createdAt", "startedAt", "finishedAt", backend)
    SELECT gen_random_uuid()::text, s.id,
      jsonb_build_object('strategy', (ARRAY['scratch','finetune','freeze','zero-lr','group-lr','linear-probe'])[1 + n % 6], 'seed', n / 6),
      'demo', 'resnet18.pth', (ARRAY['scratch','finetune','freeze','zero-lr','group-lr','linear-probe'])[1 + n % 6],
      0.001, 0.1, 0.9, ${EPOCHS}, 16, 224, n / 6, 7, 0.1,
      (ARRAY['succeeded','succeeded','succeeded','failed','cancelled','queued'])[1 + n % 6]::"ExperimentStatus", 1, ${EPOCHS},
      0.5 + random() * 0.45, 1 + (n % ${EPOCHS}), 0.5 + random() * 0.45,
      now() - (n || ' seconds')::interval, now() - (n || ' seconds')::interval, now(), 'wasm'
    FROM "Sweep" s, generate_series(0, ${RUNS_PER_SWEEP - 1}) n`);
  await db.query(`INSERT INTO "EpochMetric"(id, "experimentId", epoch, "trainLoss", "trainAcc", "valLoss", "valAcc", lrs,
      seconds, "imagesPerSec", "trainableParams", "backboneDrift", "bnStatsDrift")
    SELECT gen_random_uuid()::text, e.id, ep, 1.0 / ep + random() * 0.1, 0.5 + ep * 0.018, 1.0 / ep, 0.5 + ep * 0.018,
      ARRAY[0.001]::double precision[], 10 + random(), 24, 11177538, ep * 0.001, ep * 0.002
    FROM "Experiment" e, generate_series(1, ${EPOCHS}) ep`);
  // VACUUM, not only ANALYZE: the seed wrote every Experiment row twice (the EpochMetric insert's
  // trigger fills the curve columns), and a database that has been running for a while has had
  // autovacuum clean that up and set the visibility map. Doing it here measures that steady state
  // and keeps autovacuum from starting in the middle of the timed requests.
  await db.query('VACUUM (ANALYZE)');
  const { rows } = await db.query<{ id: string }>('SELECT id FROM "Sweep" ORDER BY name');
  const counts = await db.query<{ e: string; m: string }>(
    'SELECT (SELECT count(*) FROM "Experiment") AS e, (SELECT count(*) FROM "EpochMetric") AS m',
  );
  console.log(
    `seeded ${counts.rows[0]?.e} experiments and ${counts.rows[0]?.m} epoch rows in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  return rows.map((r) => r.id);
}

async function timeRequests(label: string, urls: () => string, init?: RequestInit): Promise<{ p50: number; p99: number }> {
  const get = async (): Promise<number> => {
    const t0 = performance.now();
    const res = await fetch(urls(), init);
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`${label}: HTTP ${res.status}`);
    return performance.now() - t0;
  };
  for (let i = 0; i < WARMUP; i++) await get();
  const times: number[] = [];
  for (let i = 0; i < REQUESTS; i++) times.push(await get());
  times.sort((a, b) => a - b);
  const p50 = percentile(times, 50);
  const p99 = percentile(times, 99);
  console.log(`${label.padEnd(52)} p50 ${p50.toFixed(1).padStart(6)} ms   p99 ${p99.toFixed(1).padStart(6)} ms   (${REQUESTS} requests)`);
  return { p50, p99 };
}

/** The plan Postgres picks: whether it reads through an index, and which scans it runs. */
async function explain(db: pg.Client, label: string, sql: string, params: unknown[]): Promise<void> {
  const { rows } = await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, params);
  const plan = rows.map((r) => r['QUERY PLAN']);
  const usesIndex = plan.some((l) => /Index (Only )?Scan|Bitmap Index Scan/.test(l));
  const scans = plan.map((l) => /(?:->\s*)?((?:Parallel )?(?:Seq|Index|Index Only|Bitmap Heap|Bitmap Index|Function) Scan[^(]*)/.exec(l)?.[1]?.trim()).filter(Boolean);
  console.log(`EXPLAIN ${label}: ${usesIndex ? 'uses an index' : 'NO INDEX'} -- ${plan[0]?.trim() ?? ''} | ${scans.join(' | ')}`);
}

/** EXPLAIN (ANALYZE, BUFFERS) of a statement the API runs: plan as above plus time and pages read. */
async function explainAnalyze(db: pg.Client, label: string, query: Prisma.Sql): Promise<void> {
  await explain(db, label, query.text, query.values);
  const { rows } = await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${query.text}`, query.values);
  const plan = rows.map((r) => r['QUERY PLAN']);
  const buffers = /Buffers: (.*)/.exec(plan.find((l) => l.includes('Buffers:')) ?? '')?.[1] ?? '?';
  const time = plan.find((l) => l.startsWith('Execution Time'))?.replace('Execution Time: ', '') ?? '?';
  console.log(`${''.padEnd(8)}${label}: executed in ${time}, buffers ${buffers}`);
}

async function main(): Promise<void> {
  await resetDatabase();
  const db = new pg.Client({ connectionString: BENCH_DB });
  await db.connect();
  const sweepIds = await seed(db);
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  const api = await startBenchApi({ databaseUrl: BENCH_DB, queuePrefix: prefix });
  try {
    const sweepId = sweepIds[0]!;
    console.log('\nHistory queries (target p99 < 50 ms)');
    const cold = performance.now();
    await (await fetch(`${api.url}/api/experiments?limit=50`)).arrayBuffer();
    console.log(`${'first request after API start (not in the percentiles)'.padEnd(52)} ${(performance.now() - cold).toFixed(1).padStart(6)} ms`);
    const results = [];
    results.push(await timeRequests('GET /api/experiments?limit=50', () => `${api.url}/api/experiments?limit=50`));
    let cursor: string | undefined;
    // Walk pages the way a client does: follow nextCursor 20 times, timing each page.
    const pageTimes: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      const res = await fetch(`${api.url}/api/experiments?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      const body = (await res.json()) as { nextCursor?: string | null };
      pageTimes.push(performance.now() - t0);
      cursor = body.nextCursor ?? undefined;
      if (!cursor) break;
    }
    pageTimes.sort((a, b) => a - b);
    console.log(`${'  cursor walk, 20 pages'.padEnd(52)} p50 ${percentile(pageTimes, 50).toFixed(1).padStart(6)} ms   max ${pageTimes[pageTimes.length - 1]!.toFixed(1).padStart(6)} ms`);
    results.push(
      await timeRequests('GET /api/experiments?sweepId&status&strategy', () => `${api.url}/api/experiments?sweepId=${sweepId}&status=succeeded&strategy=finetune&limit=50`),
    );
    results.push(await timeRequests('GET /api/sweeps/:id (1000 runs)', () => `${api.url}/api/sweeps/${sweepId}`));
    results.push(await timeRequests('GET /api/sweeps/:id/compare (1000 runs, 25k epochs)', () => `${api.url}/api/sweeps/${sweepId}/compare?groupBy=strategy`));
    const anyExp = await db.query<{ id: string }>('SELECT id FROM "Experiment" LIMIT 1');
    results.push(await timeRequests('GET /api/experiments/:id (25 epochs)', () => `${api.url}/api/experiments/${anyExp.rows[0]!.id}`));

    console.log('\nQuery plans');
    await explain(db, 'experiments by sweep', 'SELECT * FROM "Experiment" WHERE "sweepId" = $1 ORDER BY "createdAt" DESC LIMIT 51', [sweepId]);
    await explain(db, 'experiments by status', 'SELECT * FROM "Experiment" WHERE status = $1 ORDER BY "createdAt" DESC LIMIT 51', ['failed']);
    await explain(db, 'experiments by strategy', 'SELECT * FROM "Experiment" WHERE strategy = $1 ORDER BY "createdAt" DESC LIMIT 51', ['freeze']);
    await explain(db, 'newest experiments', 'SELECT * FROM "Experiment" ORDER BY "createdAt" DESC, id DESC LIMIT 51', []);
    await explain(db, 'epochs of one experiment', 'SELECT * FROM "EpochMetric" WHERE "experimentId" = $1 ORDER BY epoch', [anyExp.rows[0]!.id]);
    await explainAnalyze(db, 'sweep runs (GET /api/sweeps/:id)', sweepQueries.runs(sweepId));
    await explainAnalyze(db, 'compare runs', sweepQueries.compareRuns(sweepId, 'strategy'));
    await explainAnalyze(db, 'compare curves', sweepQueries.compareCurves(sweepId, 'strategy'));

    console.log('\nSweep submission (target < 2 s per 1000-run sweep, RSS flat)');
    const rss: number[] = [await rssMiB(api.process.pid!)];
    const submitTimes: number[] = [];
    for (let i = 0; i < 10; i++) {
      const body = {
        name: `bench-submit-${i}`,
        base: { dataset: 'demo', weights: 'resnet18.pth', epochs: 3, imageSize: 64 },
        grid: { strategy: ['finetune', 'freeze', 'zero-lr', 'group-lr'], seed: Array.from({ length: 250 }, (_, k) => k) },
      };
      const t0 = performance.now();
      const res = await fetch(`${api.url}/api/sweeps`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const json = (await res.json()) as { count?: number };
      submitTimes.push(performance.now() - t0);
      if (res.status !== 201 || json.count !== 1000) throw new Error(`sweep POST failed: ${res.status} ${JSON.stringify(json).slice(0, 300)}`);
      rss.push(await rssMiB(api.process.pid!));
    }
    console.log(`POST /api/sweeps (1000 runs): ${submitTimes.map((t) => (t / 1000).toFixed(2)).join(' ')} s; median ${(percentile([...submitTimes].sort((a, b) => a - b), 50) / 1000).toFixed(2)} s`);
    console.log(`API RSS MiB: start ${rss[0]!.toFixed(0)}, after sweep 1 ${rss[1]!.toFixed(0)}, after 5 ${rss[5]!.toFixed(0)}, after 10 ${rss[10]!.toFixed(0)}`);
    const worstP99 = Math.max(...results.map((r) => r.p99));
    console.log(`\nworst history p99 ${worstP99.toFixed(1)} ms (${worstP99 < 50 ? 'meets' : 'MISSES'} the 50 ms target)`);
  } finally {
    await api.stop();
    await db.end();
    const { Queue } = await import('bullmq');
    const queue = new Queue('train', { connection: { url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' }, prefix });
    await queue.obliterate({ force: true });
    await queue.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
