// A succeeded run's val predictions at its best epoch: the confusion matrix (rows: true class,
// columns: predicted) and a grid of val images with predicted vs true label, wrong ones first, as
// the tutorial's visualize_model shows them.
import { api, apiBlobUrl } from '../api.js';
import { esc, pct } from '../format.js';

const GRID = 24;

export async function renderPredictions(el, id, signal) {
  let p;
  try {
    p = await api(`/api/experiments/${encodeURIComponent(id)}/predictions`, { signal });
  } catch {
    return; // runs from before predictions were kept, or files removed: no panel
  }
  const max = Math.max(1, ...p.confusion.flat());
  const head = p.classes.map((c) => `<th class="num">${esc(c)}</th>`).join('');
  const rows = p.confusion
    .map(
      (row, t) =>
        `<tr><th>${esc(p.classes[t])}</th>${row
          .map((n, q) => `<td class="num cm-cell${t === q ? ' cm-diag' : ''}" style="--cm:${(n / max).toFixed(3)}">${n}</td>`)
          .join('')}</tr>`,
    )
    .join('');
  const shown = p.predictions.slice(0, GRID);
  el.hidden = false;
  el.innerHTML = `<div class="chart-head"><h2>Predictions at the best epoch (${p.epoch})</h2><span class="muted small">${p.correct}/${p.total} right (${pct(p.correct / p.total)})${p.truncated ? `; ${p.predictions.length} of ${p.total} images kept` : ''}</span></div>
    <div class="grid2">
      <div class="table-wrap"><table data-testid="confusion-matrix"><thead><tr><th>true \\ predicted</th>${head}</tr></thead><tbody>${rows}</tbody></table></div>
      <div class="pred-grid" data-testid="prediction-grid">${shown
        .map(
          (x, i) => `<figure class="pred ${x.predictedLabel === x.trueLabel ? 'right' : 'wrong'}" data-testid="prediction">
            <img data-i="${i}" alt="${esc(x.file)}">
            <figcaption>predicted <b>${esc(p.classes[x.predictedLabel])}</b> ${pct(x.confidence, 0)}<br>true ${esc(p.classes[x.trueLabel])}</figcaption></figure>`,
        )
        .join('')}</div>
    </div>`;
  await Promise.all(
    shown.map(async (x, i) => {
      const url = await apiBlobUrl(`/api/experiments/${encodeURIComponent(id)}/val-image?file=${encodeURIComponent(x.file)}`, { signal }).catch(() => null);
      const img = el.querySelector(`img[data-i="${i}"]`);
      if (url && img) img.src = url;
    }),
  );
}
