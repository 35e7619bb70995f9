// A structural check of a Grafana dashboard JSON model. Grafana publishes no complete JSON Schema
// (@grafana/schema ships TypeScript types generated from its CUE "dashboard" kind, and JSON imports
// widen every string literal, so the types cannot check a JSON file). This checks the fields that
// kind requires and that import and file provisioning rely on: a title, a uid, a numeric
// schemaVersion, the datasource variable every query points at, and per panel a unique id, a
// type, a gridPos inside the 24-column grid, no overlap, and Prometheus targets with a refId and
// a non-empty expr. Returns every problem found (empty when valid).

const PANEL_TYPES = new Set(['timeseries', 'stat', 'table', 'gauge', 'bargauge', 'text', 'row', 'heatmap', 'piechart']);
const DATASOURCE_VAR = 'DS_PROMETHEUS';
const DATASOURCE_REF = `\${${DATASOURCE_VAR}}`;

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown): v is number => Number.isInteger(v);

function checkDatasource(where: string, ds: unknown, problems: string[]): void {
  if (!isObject(ds) || ds.type !== 'prometheus' || ds.uid !== DATASOURCE_REF) problems.push(`${where}: datasource must be {type: "prometheus", uid: "${DATASOURCE_REF}"}`);
}

export interface DashboardTarget {
  panel: string;
  expr: string;
}

export function dashboardProblems(dashboard: unknown): string[] {
  const problems: string[] = [];
  if (!isObject(dashboard)) return ['the dashboard is not a JSON object'];
  if (typeof dashboard.title !== 'string' || dashboard.title.trim() === '') problems.push('title: required');
  if (typeof dashboard.uid !== 'string' || !/^[\w-]{1,40}$/.test(dashboard.uid)) problems.push('uid: 1-40 letters, digits, "-" or "_" (provisioning keys on it)');
  if (!isInt(dashboard.schemaVersion) || dashboard.schemaVersion < 36) problems.push('schemaVersion: an integer >= 36 (Grafana 9+)');
  if (!isObject(dashboard.time) || typeof dashboard.time.from !== 'string' || typeof dashboard.time.to !== 'string') problems.push('time: {from, to} required');
  const vars = isObject(dashboard.templating) && Array.isArray(dashboard.templating.list) ? (dashboard.templating.list as unknown[]) : undefined;
  if (!vars) problems.push('templating.list: required');
  else if (!vars.some((v) => isObject(v) && v.name === DATASOURCE_VAR && v.type === 'datasource' && v.query === 'prometheus')) problems.push(`templating.list: a datasource variable ${DATASOURCE_VAR} of type prometheus is required`);
  if (!Array.isArray(dashboard.panels) || dashboard.panels.length === 0) return [...problems, 'panels: a non-empty array is required'];

  const ids = new Set<number>();
  const boxes: { where: string; x: number; y: number; w: number; h: number }[] = [];
  dashboard.panels.forEach((panel: unknown, i) => {
    const where = `panels[${i}]`;
    if (!isObject(panel)) return problems.push(`${where}: not an object`);
    if (!isInt(panel.id) || ids.has(panel.id)) problems.push(`${where}.id: a unique integer is required`);
    else ids.add(panel.id);
    if (typeof panel.type !== 'string' || !PANEL_TYPES.has(panel.type)) problems.push(`${where}.type: one of ${[...PANEL_TYPES].join(', ')}`);
    if (typeof panel.title !== 'string' || panel.title === '') problems.push(`${where}.title: required`);
    const g = panel.gridPos;
    if (!isObject(g) || ![g.x, g.y, g.w, g.h].every(isInt)) problems.push(`${where}.gridPos: integers x, y, w, h required`);
    else {
      const [x, y, w, h] = [g.x, g.y, g.w, g.h] as number[] as [number, number, number, number];
      if (x < 0 || y < 0 || w < 1 || h < 1 || x + w > 24) problems.push(`${where}.gridPos: must lie in the 24-column grid (x ${x}, w ${w})`);
      for (const b of boxes) if (x < b.x + b.w && b.x < x + w && y < b.y + b.h && b.y < y + h) problems.push(`${where}.gridPos overlaps ${b.where}`);
      boxes.push({ where, x, y, w, h });
    }
    if (panel.type === 'row' || panel.type === 'text') return;
    checkDatasource(where, panel.datasource, problems);
    if (!Array.isArray(panel.targets) || panel.targets.length === 0) return problems.push(`${where}.targets: at least one query`);
    const refIds = new Set<string>();
    panel.targets.forEach((t: unknown, j) => {
      const tw = `${where}.targets[${j}]`;
      if (!isObject(t)) return problems.push(`${tw}: not an object`);
      if (typeof t.refId !== 'string' || t.refId === '' || refIds.has(t.refId)) problems.push(`${tw}.refId: unique within the panel`);
      else refIds.add(t.refId);
      if (typeof t.expr !== 'string' || t.expr.trim() === '') problems.push(`${tw}.expr: a PromQL expression is required`);
      checkDatasource(tw, t.datasource, problems);
    });
  });
  return problems;
}

/** Every query of the dashboard with its panel's title. */
export function dashboardTargets(dashboard: { panels: { title: string; targets?: { expr?: string }[] }[] }): DashboardTarget[] {
  return dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr ?? '' })));
}
