// The README shows what `npm run demo` prints: the ranked table and the verdict on pretrained vs
// scratch (issue 15's acceptance). An edit once left that block empty without anyone noticing;
// this keeps the block whole and its numbers consistent with the verdict it prints.
import { readFileSync } from 'node:fs';
import path from 'node:path';

const readme = readFileSync(path.join(process.cwd(), 'README.md'), 'utf8');

function demoOutputBlock(): string {
  const start = readme.indexOf('What it prints (`npm run demo');
  expect(start).toBeGreaterThan(-1);
  const open = readme.indexOf('```\n', start);
  const close = readme.indexOf('\n```', open + 4);
  return readme.slice(open + 4, close);
}

describe('README: the demo output block', () => {
  const block = demoOutputBlock();

  it('holds the ranked table with all six strategies, 3 seeds each', () => {
    for (const strategy of ['scratch', 'finetune', 'freeze', 'zero-lr', 'group-lr', 'linear-probe']) {
      expect(block).toMatch(new RegExp(`^\\d+\\s+${strategy}\\s+3\\s+\\d+\\.\\d% ± `, 'm'));
    }
  });

  it('says finetune and freeze beat scratch with p < 0.05, and the points match the table', () => {
    const mean = (strategy: string): number => Number(new RegExp(`^\\d+\\s+${strategy}\\s+3\\s+(\\d+\\.\\d)%`, 'm').exec(block)?.[1]);
    for (const strategy of ['finetune', 'freeze']) {
      const verdict = new RegExp(`${strategy} vs scratch: \\+(\\d+\\.\\d) points .* Welch p = ([\\d.e-]+) < 0\\.05`).exec(block);
      expect(verdict).not.toBeNull();
      expect(Number(verdict?.[2])).toBeLessThan(0.05);
      // The table rounds each mean to 0.1 point: their difference is the verdict's within 0.1.
      expect(Math.abs(mean(strategy) - mean('scratch') - Number(verdict?.[1]))).toBeLessThanOrEqual(0.11);
    }
  });
});
