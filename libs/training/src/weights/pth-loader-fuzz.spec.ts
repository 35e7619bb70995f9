// Corrupted files must end in a WeightsError (or load), never in another exception.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../rng.js';
import { decodeStateDict, WeightsError } from './pth-loader.js';

const FIXTURES = join(process.cwd(), 'test/fixtures/pth');

it.each(['small-legacy.pth', 'small-zip.pth', 'small-tar.pth'])('random corruptions of %s fail only with WeightsError', (name) => {
  const original = readFileSync(join(FIXTURES, name));
  const rng = new Rng(42);
  const escaped: string[] = [];
  for (let i = 0; i < 400; i++) {
    const buf = Uint8Array.from(original);
    for (let k = 0, n = 1 + rng.int(4); k < n; k++) buf[rng.int(buf.length)] = rng.int(256);
    const cut = i % 3 === 0 ? buf.subarray(0, rng.int(buf.length)) : buf;
    try {
      decodeStateDict(cut, name);
    } catch (err) {
      if (!(err instanceof WeightsError)) escaped.push(`${i}: ${String(err)}`);
    }
  }
  expect(escaped).toEqual([]);
});
