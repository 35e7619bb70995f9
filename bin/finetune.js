#!/usr/bin/env node
// Entry point of the `finetune` command (package.json "bin"); runs the compiled CLI.
import('../dist/apps/cli/src/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND') {
    process.stderr.write('finetune: the project is not built yet; run `npm run build` first\n');
  } else {
    process.stderr.write(`finetune: ${err && err.message ? err.message : String(err)}\n`);
  }
  process.exit(1);
});
