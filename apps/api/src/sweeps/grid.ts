// Cartesian expansion of a sweep grid. The size is computed (and capped) before anything is
// expanded, so a grid of a million cells is refused without allocating it.

/** A cell value; objects only as `weights` values (a parent run's model, {experiment, epoch}). */
export type GridValue = string | number | boolean | null | Readonly<Record<string, unknown>>;
export type Grid = Record<string, readonly GridValue[]>;

/** Number of cells of the grid (product of the value counts); 1 for an empty grid. */
export function gridSize(grid: Grid): number {
  let size = 1;
  for (const values of Object.values(grid)) size *= values.length;
  return size;
}

/**
 * Every cell of the grid, in row-major order: the first key varies slowest, the last fastest (as
 * nested for-loops written in key order would run them).
 */
export function* expandGrid(grid: Grid): Generator<Record<string, GridValue>> {
  const keys = Object.keys(grid);
  const lists = keys.map((k) => grid[k] ?? []);
  if (lists.some((l) => l.length === 0)) return;
  const index = keys.map(() => 0);
  for (;;) {
    const cell: Record<string, GridValue> = {};
    keys.forEach((k, i) => (cell[k] = lists[i]![index[i]!]!));
    yield cell;
    let i = keys.length - 1;
    while (i >= 0) {
      index[i]! += 1;
      if (index[i]! < lists[i]!.length) break;
      index[i] = 0;
      i -= 1;
    }
    if (i < 0) return;
  }
}

/** Short label of a cell, e.g. "strategy=freeze seed=2". */
export function cellLabel(cell: Record<string, GridValue>): string {
  return Object.entries(cell)
    .map(([k, v]) => `${k}=${labelValue(v)}`)
    .join(' ');
}

/** A parent run's model reads as the CLI writes it, `<experiment>:<epoch>`. */
function labelValue(v: GridValue): string {
  if (v === null || typeof v !== 'object') return String(v);
  return typeof v['experiment'] === 'string' ? `${v['experiment']}:${typeof v['epoch'] === 'string' ? v['epoch'] : 'best'}` : JSON.stringify(v);
}
