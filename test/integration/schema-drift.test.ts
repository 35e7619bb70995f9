// prisma/schema.prisma and prisma/migrations must describe the same database: migrations are
// hand-reviewed SQL applied by scripts/prisma-migrate.mjs (no schema engine offline), so this test
// compares the migrated database with the schema's data model field by field, index by index.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import pg from 'pg';
import { testDatabaseUrl } from '../test-env.mjs';

interface DmmfField {
  name: string;
  kind: 'scalar' | 'object' | 'enum' | 'unsupported';
  type: string;
  isRequired: boolean;
  isList: boolean;
}
interface DmmfModel {
  name: string;
  fields: DmmfField[];
  uniqueFields: string[][];
}
interface DmmfIndex {
  model: string;
  type: 'id' | 'normal' | 'unique' | 'fulltext';
  fields: { name: string }[];
}
interface Dmmf {
  datamodel: { models: DmmfModel[]; enums: { name: string; values: { name: string }[] }[]; indexes: DmmfIndex[] };
}

const require = createRequire(import.meta.url);
const { getDMMF } = require('@prisma/internals') as { getDMMF(opts: { datamodel: string }): Promise<Dmmf> };

const PG_TYPES: Record<string, string> = {
  String: 'text',
  Int: 'integer',
  Float: 'double precision',
  Boolean: 'boolean',
  DateTime: 'timestamp without time zone',
  Json: 'jsonb',
  BigInt: 'bigint',
};

/** Element type names of Postgres arrays (information_schema's udt_name of a list column is '_' + this). */
const PG_ELEMENT_TYPES: Record<string, string> = {
  String: 'text',
  Int: 'int4',
  Float: 'float8',
  Boolean: 'bool',
  DateTime: 'timestamp',
  Json: 'jsonb',
  BigInt: 'int8',
};

describe('schema.prisma vs applied migrations', () => {
  const db = new pg.Client({ connectionString: testDatabaseUrl() });
  let dmmf: Dmmf;
  beforeAll(async () => {
    await db.connect();
    dmmf = await getDMMF({ datamodel: readFileSync('prisma/schema.prisma', 'utf8') });
  });
  afterAll(async () => {
    await db.end();
  });

  it('has every model column with its type and nullability, and no extra columns', async () => {
    const { rows } = await db.query<{ table_name: string; column_name: string; data_type: string; udt_name: string; is_nullable: string }>(
      `SELECT table_name, column_name, data_type, udt_name, is_nullable FROM information_schema.columns
       WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'`,
    );
    const actual = new Map(rows.map((r) => [`${r.table_name}.${r.column_name}`, r]));
    const expected = new Set<string>();
    for (const model of dmmf.datamodel.models) {
      for (const field of model.fields.filter((f) => f.kind !== 'object')) {
        const key = `${model.name}.${field.name}`;
        expected.add(key);
        const column = actual.get(key);
        expect({ key, present: column !== undefined }).toEqual({ key, present: true });
        if (!column) continue;
        const actualType = field.kind === 'enum' || field.isList ? column.udt_name : column.data_type;
        const element = field.kind === 'enum' ? field.type : PG_ELEMENT_TYPES[field.type];
        const expectedType = field.isList ? `_${element}` : field.kind === 'enum' ? field.type : PG_TYPES[field.type];
        expect({ key, type: actualType }).toEqual({ key, type: expectedType });
        const nullable = field.isList ? column.is_nullable === 'YES' : !field.isRequired;
        expect({ key, nullable: column.is_nullable === 'YES' }).toEqual({ key, nullable });
      }
    }
    const extra = [...actual.keys()].filter((k) => !expected.has(k));
    expect(extra).toEqual([]);
  });

  it('has every enum with its values', async () => {
    for (const e of dmmf.datamodel.enums) {
      const { rows } = await db.query<{ v: string }>(
        'SELECT e.enumlabel AS v FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid WHERE t.typname = $1 ORDER BY e.enumsortorder',
        [e.name],
      );
      expect(rows.map((r) => r.v)).toEqual(e.values.map((v) => v.name));
    }
  });

  it('has every index and unique constraint of the schema', async () => {
    const { rows } = await db.query<{ tablename: string; indexdef: string }>("SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = 'public'");
    const signatures = new Set(
      rows.map((r) => {
        const cols = /\((.*)\)$/.exec(r.indexdef)?.[1] ?? '';
        return `${r.tablename}:${r.indexdef.includes('UNIQUE') ? 'unique' : 'normal'}:${cols.replace(/"/g, '').replace(/\s/g, '')}`;
      }),
    );
    expect(dmmf.datamodel.indexes.length).toBeGreaterThan(5);
    for (const index of dmmf.datamodel.indexes) {
      const kind = index.type === 'normal' ? 'normal' : 'unique';
      const signature = `${index.model}:${kind}:${index.fields.map((f) => f.name).join(',')}`;
      expect({ signature, present: signatures.has(signature) }).toEqual({ signature, present: true });
    }
  });
});
