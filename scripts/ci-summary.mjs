#!/usr/bin/env node
// Prints Jest's totals as the plain closing line CI counts: "N passed, N failed[, N skipped]".
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? '.ci-jest.json';
let results;
try {
  results = JSON.parse(readFileSync(file, 'utf8'));
} catch (err) {
  console.log('0 passed, 1 failed');
  console.error(`ci-summary: cannot read Jest results from ${file}: ${err.message}`);
  process.exit(0);
}
const failedSuites = results.numFailedTestSuites ?? 0;
const failed = (results.numFailedTests ?? 0) + (results.numRuntimeErrorTestSuites ?? 0);
const skipped = (results.numPendingTests ?? 0) + (results.numTodoTests ?? 0);
if (failedSuites > 0) console.error(`${failedSuites} test suite(s) failed`);
console.log(`${results.numPassedTests ?? 0} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
