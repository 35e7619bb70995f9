#!/usr/bin/env node
// Generates the Prisma client (prisma/schema.prisma -> libs/persistence/src/generated/prisma)
// without the Prisma CLI. The CLI insists on downloading its native schema engine before
// `generate` even though generation never runs it; on offline machines that download fails.
// The generator itself is plain JS shipped in npm packages, so we call it the way the CLI does.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const schemaPath = path.join(root, 'prisma', 'schema.prisma');

async function main() {
  const internals = require('@prisma/internals');
  const { createDefaultRegistry } = require('@prisma/client-generator-registry');
  const schemaContext = await internals.loadSchemaContext({
    schemaPath: internals.createSchemaPathInput({ schemaPathFromArgs: schemaPath, baseDir: root }),
    cwd: root,
  });
  const generators = await internals.getGenerators({
    schemaContext,
    registry: createDefaultRegistry('npm run db:generate').toInternal(),
    skipDownload: true,
    printDownloadProgress: false,
    cliCommand: 'generate',
  });
  try {
    for (const generator of generators) {
      await generator.generate();
      const out = generator.options?.generator.output?.value ?? '?';
      console.log(`prisma client generated -> ${path.relative(root, out)}`);
    }
  } finally {
    for (const generator of generators) generator.stop();
  }
}

main().catch((err) => {
  console.error(`db:generate failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
