// `finetune compare SWEEP`: the sweep's runs grouped (by strategy by default) and ranked by mean best
// validation accuracy, with the spread over seeds and Welch's p-value against the best group.
// The numbers are the API's (GET /api/sweeps/:id/compare); this only lays them out.
import type { Command } from 'commander';
import { clientFromOptions, withApiOptions, type CompareResult } from '../api-client.js';
import { duration, formatTable, pct, shortId } from './status.command.js';

function pValue(p: number | null | undefined): string {
  if (p === null || p === undefined || !Number.isFinite(p)) return '-';
  return p < 0.001 ? '<0.001' : p.toFixed(3);
}

/** The ranked comparison as text (also printed by `npm run demo`). */
export function compareText(result: CompareResult): string {
  const rows = result.groups.map((g, i) => [
    g.rank,
    String(g.value),
    g.n === g.runs.length ? g.n : `${g.n}/${g.runs.length}`,
    g.stdBestValAcc !== null ? `${pct(g.meanBestValAcc)} ± ${pct(g.stdBestValAcc)}` : pct(g.meanBestValAcc),
    g.bestRun ? `${pct(g.bestRun.bestValAcc)} (${shortId(g.bestRun.id)} seed ${g.bestRun.seed})` : '-',
    duration(g.meanEpochSeconds),
    i === 0 ? 'best' : pValue(g.pValue),
  ]);
  const lines = [formatTable(['>#', result.groupBy, '>runs', '>best val acc (mean ± std)', '>best run', '>s/epoch', '>p vs best'], rows)];
  if (result.note) lines.push('', result.note);
  return lines.join('\n');
}

export function registerCompareCommand(program: Command): void {
  withApiOptions(
    program
      .command('compare')
      .description("rank a sweep's runs grouped by a field (mean ± std of best val acc, Welch p-value vs the best)")
      .argument('<sweep>', 'sweep id')
      .option('--group-by <field>', 'grid field to group by', 'strategy')
      .option('--json', 'print the API response as JSON'),
  ).action(async (sweepId: string, opts: { api?: string; apiKey?: string; groupBy: string; json?: boolean }) => {
    const result = await clientFromOptions(opts).compareSweep(sweepId, opts.groupBy);
    process.stdout.write(`${opts.json ? JSON.stringify(result, null, 2) : compareText(result)}\n`);
  });
}
