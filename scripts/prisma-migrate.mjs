#!/usr/bin/env node
// `npm run db:migrate`: applies prisma/migrations to the database in DATABASE_URL exactly as
// `prisma migrate deploy` does, without Prisma's native schema engine (a download that offline
// machines cannot make). Bookkeeping is Prisma's own: the `_prisma_migrations` table, SHA-256
// checksums of migration.sql, advisory lock 72707369, and a failed migration blocks later deploys
// (Prisma's P3009). A database migrated here is "up to date" for the real Prisma CLI and vice versa.
//
// With PRISMA_CLI=1 it runs `prisma migrate deploy` instead (needs the engine download).
import { spawnSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MIGRATIONS_DIR = path.join(root, 'prisma', 'migrations');
const PRISMA_ADVISORY_LOCK = 72707369;
export const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/finetune_fleet';

const CREATE_BOOKKEEPING = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

/** Lists migration folders in the order Prisma applies them (lexicographic by folder name). */
export function listMigrations(dir = MIGRATIONS_DIR) {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(path.join(dir, e.name, 'migration.sql')))
    .map((e) => e.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(path.join(dir, name, 'migration.sql'));
      return { name, sql: sql.toString('utf8'), checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

/** Creates the database named in `url` when it does not exist yet (as `prisma migrate deploy` does). */
async function ensureDatabase(url) {
  const target = new URL(url);
  const dbName = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!dbName) throw new Error(`DATABASE_URL has no database name: ${url}`);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [dbName]);
    if (rowCount === 0) {
      await client.query(`CREATE DATABASE "${dbName.replace(/"/g, '""')}"`);
      console.log(`created database ${dbName}`);
    }
  } catch (err) {
    // 42P04: created concurrently by another migrator.
    if (err?.code !== '42P04') throw err;
  } finally {
    await client.end();
  }
}

/**
 * Applies pending migrations. Returns the names applied.
 * @param {{ url: string, log?: (line: string) => void, dir?: string }} options
 */
export async function migrate({ url, log = console.log, dir = MIGRATIONS_DIR }) {
  await ensureDatabase(url);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const applied = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [PRISMA_ADVISORY_LOCK]);
    await client.query(CREATE_BOOKKEEPING);
    const { rows } = await client.query(
      'SELECT migration_name, checksum, finished_at, rolled_back_at, logs FROM "_prisma_migrations" ORDER BY started_at',
    );
    const failed = rows.find((r) => r.finished_at === null && r.rolled_back_at === null);
    if (failed) {
      throw new Error(
        `migration ${failed.migration_name} failed earlier and blocks deploys (Prisma P3009). ` +
          `Fix the database, then mark it rolled back (prisma migrate resolve --rolled-back ${failed.migration_name}). ` +
          `Its log: ${failed.logs ?? '(none)'}`,
      );
    }
    const done = new Map(rows.filter((r) => r.finished_at !== null).map((r) => [r.migration_name, r.checksum]));
    for (const m of listMigrations(dir)) {
      if (done.has(m.name)) {
        if (done.get(m.name) !== m.checksum) log(`warning: migration ${m.name} was modified after it was applied`);
        continue;
      }
      const id = randomUUID();
      await client.query(
        'INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) VALUES ($1, $2, $3, now(), 0)',
        [id, m.checksum, m.name],
      );
      try {
        await client.query('BEGIN');
        await client.query(m.sql);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        const message = err instanceof Error ? err.message : String(err);
        await client.query('UPDATE "_prisma_migrations" SET logs = $2 WHERE id = $1', [id, message]);
        throw new Error(`migration ${m.name} failed: ${message}`);
      }
      await client.query(
        'UPDATE "_prisma_migrations" SET applied_steps_count = 1, finished_at = now() WHERE id = $1',
        [id],
      );
      applied.push(m.name);
      log(`applied migration ${m.name}`);
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_ADVISORY_LOCK]).catch(() => undefined);
    await client.end();
  }
  return applied;
}

async function main() {
  const url = process.env.DATABASE_URL || DEFAULT_DATABASE_URL;
  if (process.env.PRISMA_CLI === '1') {
    const r = spawnSync('npx', ['prisma', 'migrate', 'deploy'], { stdio: 'inherit', env: { ...process.env, DATABASE_URL: url } });
    process.exit(r.status ?? 1);
  }
  const applied = await migrate({ url });
  const safeUrl = new URL(url);
  safeUrl.password = '';
  console.log(applied.length ? `${applied.length} migration(s) applied to ${safeUrl}` : `database ${safeUrl} is up to date`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(`db:migrate failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
