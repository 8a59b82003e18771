/**
 * Notebook 01's calibration figures, drawn from the stored calibration runs
 * (lib/experiments/calibration.ts): the clean ceiling, the default against
 * the lab-data band, the cost of the identity confound with what the oracle
 * NDF wins back, and whether training accuracy plateaus.
 * @see notebooks/01-data-and-preprocessing.ipynb
 */
import type { Row } from '../results/store';
import type { FigureSpec } from './render';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';
const ACC = { field: 'acc', type: 'quantitative', title: 'test accuracy on unseen subjects (%)', scale: { domain: [0, 100] } };

/** Bars (mean over folds) and dots (folds) for some runs, with horizontal reference rules and an optional shaded band. */
function runBars(rows: Row[], runs: string[], title: string, refs: { y: number; label: string }[], band?: readonly [number, number]): FigureSpec {
  const x = { field: 'run', type: 'nominal', sort: runs, title: null, axis: { labelAngle: 0 } };
  const layer: unknown[] = [];
  if (band) layer.push({ data: { values: [{ lo: band[0], hi: band[1] }] }, mark: { type: 'rect', color: '#4c78a8', opacity: 0.12 }, encoding: { y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } } });
  layer.push(
    { mark: { type: 'bar', opacity: 0.45, width: 36 }, encoding: { x, y: { ...ACC, aggregate: 'mean' } } },
    { mark: { type: 'text', dy: -10, fontSize: 11, fontWeight: 'bold' }, encoding: { x, y: { ...ACC, aggregate: 'mean' }, text: { field: 'acc', aggregate: 'mean', format: '.1f' } } },
    { mark: { type: 'point', filled: true, size: 40, color: 'black' }, encoding: { x, y: ACC } },
    { data: { values: refs }, mark: { type: 'rule', strokeDash: [4, 3], color: 'grey' }, encoding: { y: { field: 'y', type: 'quantitative' } } },
    { data: { values: refs }, mark: { type: 'text', align: 'left', dx: 4, dy: -6, fontSize: 10, color: 'grey' }, encoding: { y: { field: 'y', type: 'quantitative' }, x: { value: 0 }, text: { field: 'label' } } },
  );
  return {
    $schema: SCHEMA, title, width: Math.max(160, 90 * runs.length), height: 220,
    data: { values: rows.filter((r) => runs.includes(r.run as string)) }, layer,
  } as FigureSpec;
}

/** The clean ceiling: the baseline on SynFER without confound, light, occluders and subtle peaks, against its bar. */
export const cleanCeilingSpec = (folds: Row[], bar: number) =>
  runBars(folds, ['clean'], 'Clean ceiling (bar: mean over folds; dots: folds)', [{ y: bar, label: `${bar} %` }]);

/** The default setting inside the band of the papers' lab-data baselines (shaded), each drawn as a rule. */
export const defaultBandSpec = (folds: Row[], band: readonly [number, number], labBaselines: { y: number; label: string }[]) =>
  runBars(folds, ['default'], 'Default setting in the lab-data band', labBaselines, band);

/** The papers' premise: no confound, the default, and the oracle NDF on the default. */
export const premiseSpec = (folds: Row[]) =>
  runBars(folds, ['no confound', 'default', 'oracle NDF'], 'The identity confound and what the true neutral frame wins back', []);

/** Training and test accuracy per epoch (mean over folds), one panel per run. */
export function plateauSpec(curves: Row[]): FigureSpec {
  return {
    $schema: SCHEMA, title: 'Accuracy per epoch, mean over folds', data: { values: curves },
    facet: { column: { field: 'run', type: 'nominal', title: null, sort: ['clean', 'default', 'no confound', 'oracle NDF'] } },
    spec: {
      width: 150, height: 160, mark: { type: 'line', point: { size: 12 } },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', title: 'epoch' },
        y: { field: 'acc', type: 'quantitative', title: 'accuracy (%)', scale: { domain: [0, 100] } },
        color: { field: 'split', type: 'nominal', title: null },
      },
    },
  } as FigureSpec;
}
