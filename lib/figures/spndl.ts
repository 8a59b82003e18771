/**
 * SPNDL's figures redrawn from stored results (vega-lite specs; rows come
 * from lib/experiments/spndl-study.ts): accuracy per pace (Fig. 5), training
 * loss with and without SPL (Fig. 6), the NDF embedding at an early and a
 * late pace (Fig. 7), and a thumbnail grid of samples SPL excluded (Fig. 8).
 * @see notebooks/02-spndl.ipynb
 */
import type { FerSet } from '../data/dataset';
import { GridCell, imageGrid } from '../data/grid';
import type { Row } from '../results/store';
import type { FigureSpec } from './render';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

/**
 * Line dash per SPL setting for Figs. 5 and 6: runs with SPL dashed, runs without solid. The legend draws a black
 * line segment in each dash, so the dashes belong to line marks alone: on a line with `point: true` vega-lite
 * draws the legend symbol as a filled dot, which cannot show a dash.
 */
const SPL_DASH = {
  field: 'spl', type: 'nominal', title: null,
  scale: { domain: ['without SPL', 'with SPL'], range: [[1, 0], [6, 3]] },
  legend: { symbolType: 'stroke', symbolStrokeColor: 'black', symbolStrokeWidth: 2, symbolSize: 400 },
};

/** Lines dashed by SPL setting, with a dot at every data point (the dots carry colour only). */
const dashedLinesWithPoints = [
  { mark: { type: 'line' }, encoding: { strokeDash: SPL_DASH } },
  { mark: { type: 'point', filled: true } },
];

/** Fig. 5: test accuracy at the end of each pace, mean over folds, one line per variant (dashed: with SPL). */
export function paceAccuracySpec(rows: Row[], title = 'Test accuracy after each pace (mean over folds)'): FigureSpec {
  return {
    $schema: SCHEMA, title, width: 360, height: 220, data: { values: rows },
    encoding: {
      x: { field: 'pace', type: 'ordinal', title: 'pace' },
      y: { aggregate: 'mean', field: 'test_acc', type: 'quantitative', title: 'test accuracy (%)', scale: { zero: false } },
      color: { field: 'variant', type: 'nominal', title: null },
    },
    layer: dashedLinesWithPoints,
  } as FigureSpec;
}

/** Fig. 6: training loss per epoch (log scale), mean over folds, with rules at the pace boundaries (dashed: with SPL). */
export function trainLossSpec(rows: Row[], paceEpochs: number[], title = 'Training loss with and without SPL (mean over folds)'): FigureSpec {
  const bounds = paceEpochs.slice(0, -1).map((_, i) => ({ epoch: paceEpochs.slice(0, i + 1).reduce((a, b) => a + b, 0) + 0.5 }));
  return {
    $schema: SCHEMA, title, width: 360, height: 220,
    layer: [
      { data: { values: bounds }, mark: { type: 'rule', color: '#bbb', strokeDash: [2, 2] }, encoding: { x: { field: 'epoch', type: 'quantitative' } } },
      {
        data: { values: rows },
        encoding: {
          x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1 } },
          y: { field: 'train_loss', type: 'quantitative', scale: { type: 'log' }, title: 'training loss (selected samples)' },
          color: { field: 'variant', type: 'nominal', title: null },
        },
        layer: dashedLinesWithPoints,
      },
    ],
  } as FigureSpec;
}

/** Fig. 7: 2-D embedding of the NDFs, one panel per pace; colour = class, shape/opacity = selected or excluded. */
export function ndfEmbeddingSpec(points: Row[], title = 'NDFs of the training pairs (UMAP), when SPL selects'): FigureSpec {
  return {
    $schema: SCHEMA, title, data: { values: points },
    facet: { column: { field: 'pace', type: 'nominal', title: null } },
    resolve: { scale: { x: 'independent', y: 'independent' } },
    spec: {
      width: 260, height: 240,
      mark: { type: 'point', filled: true, size: 28 },
      encoding: {
        x: { field: 'x', type: 'quantitative', axis: null },
        y: { field: 'y', type: 'quantitative', axis: null },
        color: { field: 'class', type: 'nominal' },
        shape: { field: 'status', type: 'nominal', scale: { domain: ['selected', 'excluded'], range: ['circle', 'cross'] } },
        opacity: { field: 'status', type: 'ordinal', sort: ['selected', 'excluded'], scale: { domain: ['selected', 'excluded'], range: [0.45, 1] }, legend: null },
        tooltip: [{ field: 'sample' }, { field: 'class' }, { field: 'status' }, { field: 'noise' }],
      },
    },
  } as FigureSpec;
}

/** Fig. 8: thumbnails of excluded samples (targets; their neutral references below when the set has them). */
export async function excludedGrid(set: FerSet, samples: Row[], cell = 72): Promise<Buffer> {
  const per = set.size * set.size * set.channels;
  const pix = (data: Float32Array, i: number): GridCell => ({ pixels: data.subarray(i * per, (i + 1) * per), size: set.size, channels: set.channels });
  const ids = samples.map((s) => s.sample as number);
  const rows: GridCell[][] = [ids.map((i) => pix(set.images, i))];
  if (set.neutral) rows.push(ids.map((i) => pix(set.neutral!, i)));
  const tag = (n: string) => (n === 'clean' ? '' : n === 'label flipped' ? ' (flip)' : ` (${n.replace('corrupt: ', '')})`);
  return imageGrid(rows, {
    cell, rowLabels: set.neutral ? ['target', 'neutral'] : ['target'],
    colLabels: samples.map((s, k) => `${k + 1}:${String(s.class).slice(0, 4)}${tag(String(s.noise))}`),
  });
}
