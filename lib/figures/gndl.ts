/**
 * GNDL's figures, drawn from stored results: accuracy against λ (Fig. 7,
 * with the paper's λ = 5 anchor for a chosen dataset), the joint 2-D
 * embedding of V_real and V_gen coloured by class (Fig. 8), and the hard
 * samples the baseline gets wrong and GNDL right (Fig. 9), as an image grid.
 * @see notebooks/03-gndl.ipynb
 */
import type { FerSet } from '../data/dataset';
import { type GridCell, imageGrid } from '../data/grid';
import { frameRows, type Row, type StoredRun } from '../results/store';
import type { FigureSpec } from './render';

/** Accuracy (fraction) against λ on a log axis, ±1 sd over folds, and the paper's λ = 5 point. */
export function lambdaCurveSpec(rows: { lambda: number; acc_mean: number; acc_std: number }[], paper: { label: string; acc: number } | null, title = 'Accuracy against λ (mean ± sd over folds)'): FigureSpec {
  // λ = 0 has no place on a log axis: drawn at 0.01 and labelled
  const values = rows.map((r) => ({ lambda: r.lambda === 0 ? 0.01 : r.lambda, label: String(r.lambda), acc: r.acc_mean, lo: r.acc_mean - r.acc_std, hi: r.acc_mean + r.acc_std, source: 'ours (synthetic)' }));
  const layers: unknown[] = [
    { mark: { type: 'errorbar' }, encoding: { x: { field: 'lambda', type: 'quantitative', scale: { type: 'log' }, title: 'λ (0 drawn at 0.01)' }, y: { field: 'lo', type: 'quantitative', title: 'accuracy' }, y2: { field: 'hi' } } },
    { mark: { type: 'line', point: true }, encoding: { x: { field: 'lambda', type: 'quantitative' }, y: { field: 'acc', type: 'quantitative' }, color: { field: 'source', type: 'nominal', title: null } } },
  ];
  if (paper) {
    layers.push({ data: { values: [{ lambda: 5, acc: paper.acc, source: paper.label }] }, mark: { type: 'point', shape: 'diamond', size: 120, filled: true },
      encoding: { x: { field: 'lambda', type: 'quantitative' }, y: { field: 'acc', type: 'quantitative' }, color: { field: 'source', type: 'nominal', title: null } } });
  }
  return { $schema: 'https://vega.github.io/schema/vega-lite/v5.json', title, width: 360, height: 220, data: { values }, layer: layers } as FigureSpec;
}

/** V_real (squares) and V_gen (crosses) in one 2-D embedding, coloured by class. */
export function deviationEmbeddingSpec(points: Row[], title = 'V_real (squares) and V_gen (crosses), one test fold, UMAP'): FigureSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json', title, width: 380, height: 320, data: { values: points },
    mark: { type: 'point', filled: true, size: 40, opacity: 0.8 },
    encoding: {
      x: { field: 'x', type: 'quantitative', axis: null }, y: { field: 'y', type: 'quantitative', axis: null },
      color: { field: 'class', type: 'nominal' },
      shape: { field: 'kind', type: 'nominal', scale: { range: ['square', 'cross'] }, title: null },
    },
  } as FigureSpec;
}

/** A test face the baseline gets wrong and GNDL right, on the same fold (Fig. 9); a type alias so showTable takes it as a row. */
export type HardSample = {
  fold: number;
  sample: number;
  subject: string;
  truth: string;
  baseline: string;
  gndl: string;
  /** GNDL's probability of the true class, exp(−stored test loss) */
  pGndl: number;
};

/**
 * Fig. 9's candidates from the stored test predictions of two runs on the
 * same folds: baseline wrong, GNDL right, at most one face per subject,
 * GNDL's most confident first (ties by sample index), at most `n`.
 */
export function hardSamples(baseline: StoredRun, gndl: StoredRun, classes: string[], n = 7): HardSample[] {
  const key = (p: Row) => `${p.fold}:${p.sample}`;
  const base = new Map(frameRows(baseline.predictions).map((p) => [key(p), p]));
  const found: HardSample[] = [];
  for (const p of frameRows(gndl.predictions)) {
    const b = base.get(key(p));
    if (!b) throw new Error(`hard samples: test sample ${key(p)} of ${gndl.runId} is not in ${baseline.runId}; both runs need the same folds`);
    if (b.label !== b.prediction && p.label === p.prediction) {
      found.push({ fold: p.fold as number, sample: p.sample as number, subject: String(p.subject), truth: classes[p.label as number],
        baseline: classes[b.prediction as number], gndl: classes[p.prediction as number], pGndl: Math.exp(-(p.loss as number)) });
    }
  }
  found.sort((a, b) => b.pGndl - a.pGndl || a.sample - b.sample);
  const subjects = new Set<string>();
  return found.filter((h) => !subjects.has(h.subject) && subjects.add(h.subject)).slice(0, n);
}

/** One row per hard sample: the subject's neutral face and the examined face, labelled truth / baseline / GNDL. */
export async function hardSampleGrid(set: FerSet, samples: HardSample[], cell = 72): Promise<Buffer> {
  if (!samples.length) throw new Error('hard-sample grid: no sample where the baseline is wrong and GNDL right');
  const per = set.size * set.size * set.channels;
  const pix = (data: Float32Array, i: number): GridCell => ({ pixels: data.subarray(i * per, (i + 1) * per), size: set.size, channels: set.channels });
  return imageGrid(samples.map((h) => [set.neutral ? pix(set.neutral, h.sample) : null, pix(set.images, h.sample)]), {
    cell, colLabels: ['neutral', 'examined'],
    rowLabels: samples.map((h) => `truth ${h.truth} · baseline ${h.baseline} · GNDL ${h.gndl} (${h.pGndl.toFixed(2)})`),
  });
}
