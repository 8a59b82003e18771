/**
 * How hard the embedded benchmark is, measured: the plain baseline of
 * ./baseline.ts trained with the profile's shared protocol on SynFER drawn
 * three ways, with a calibration seed of its own (other faces, other folds,
 * other initial weights than the reporting seed every paper notebook uses),
 * and the same backbone given each face's true neutral frame: the oracle NDF
 * (SPNDL Eq. 3 with the real reference, its 'ndf' run without self-paced
 * learning), the premise all four papers build on. No method's own
 * machinery beyond that subtraction takes part, so SynFER's defaults are
 * never tuned on the methods under test.
 *
 * The bands (lab data's plain baselines: CK+ 97.6, Oulu-CASIA 87.6 and MMI
 * 82.6 %, GNDL Table 1):
 * - clean ceiling: with the identity confound, light, occluders and subtle
 *   peaks switched off the baseline reaches at least 97 % on unseen subjects;
 * - default: the defaults land it in 80-92 %;
 * - the papers' shared premise: the identity confound costs the baseline at
 *   least 4 points against confound 0, and the oracle NDF wins back at least
 *   half of that.
 * @see notebooks/01-data-and-preprocessing.ipynb
 */
import type { Config } from '../config';
import { loadDataset, synferOptionsFrom } from '../data/dataset';
import { finalAccuracies, frameRows, pooledAccuracy, type Row, type StoredRun } from '../results/store';
import { meanStd } from '../analysis/stats';
import type { RunResult } from './runner';
import { runStudy, type StudyRun } from './study-runs';

/** The three ways of drawing SynFER the calibration trains on (SynFER settings beside the profile's own). */
export const CALIBRATION_DATA = {
  clean: { synferConfound: 0, synferLight: 0, synferOcclusion: 0, synferSubtle: 0 },
  default: {},
  'no confound': { synferConfound: 0 },
} as const satisfies Record<string, Partial<Config>>;
export type CalibrationData = keyof typeof CALIBRATION_DATA;

export const CALIBRATION_BANDS = {
  /** lowest clean-ceiling accuracy, % */
  clean: 97,
  /** the default's band, % */
  defaultRange: [80, 92] as const,
  /** least cost of the identity confound, points */
  confoundCost: 4,
  /** least share of that cost the oracle NDF wins back */
  oracleRecovery: 0.5,
};

/** The runs: [name, data, method, variant]. */
export const CALIBRATION_RUNS = [
  ['clean', 'clean', 'baseline', 'plain'],
  ['default', 'default', 'baseline', 'plain'],
  ['no confound', 'no confound', 'baseline', 'plain'],
  ['oracle NDF', 'default', 'spndl', 'ndf'],
] as const;
export type CalibrationRun = (typeof CALIBRATION_RUNS)[number][0];

/** The configuration of a calibration run: the profile's shared protocol with the calibration seed, on that data. */
export function calibrationConfig(config: Config, data: CalibrationData): Config {
  if (config.calibrationSeed === config.seed) {
    throw new Error(`calibrationSeed=${config.calibrationSeed} must differ from seed=${config.seed}: the calibration must not see the faces the notebooks report on`);
  }
  return Object.freeze({ ...config, ...CALIBRATION_DATA[data], seed: config.calibrationSeed, dataset: 'synfer' });
}

export type Calibration = Record<CalibrationRun, RunResult>;

/** The four calibration runs, each on its own data (all in npm start). */
export const planCalibration = (config: Config, opts: { resultsDir?: string } = {}): Promise<StudyRun[]> =>
  Promise.all(CALIBRATION_RUNS.map(async ([name, data, method, variant]) => {
    const c = calibrationConfig(config, data);
    return { name, run: { config: c, method, variant, set: await loadDataset(c), resultsDir: opts.resultsDir }, train: true };
  }));

/** Trains (or reuses) the four calibration runs (planCalibration); their folds share the fold pool. */
export async function runCalibration(config: Config, opts: { resultsDir?: string } = {}): Promise<Calibration> {
  const planned = await planCalibration(config, opts);
  const results = await runStudy(planned, { label: 'calibration' });
  return Object.fromEntries(planned.map((p, i) => [p.name, results[i]!])) as Calibration;
}

const accuracies = (run: StoredRun) => finalAccuracies(run).map((a) => 100 * a.test_acc);

/** One row per run: its data and variant, accuracy after the last epoch (mean ± sd over folds, per fold, pooled). */
export function calibrationRows(cal: Calibration): Row[] {
  return CALIBRATION_RUNS.map(([name, data, method]) => {
    const accs = accuracies(cal[name]);
    const { mean, std } = meanStd(accs);
    const s = synferOptionsFrom(cal[name].config as unknown as Config);
    return {
      run: name, model: method === 'baseline' ? 'baseline (target only)' : 'target − true neutral features (oracle NDF)', data,
      confound: s.confound, light: s.light, occlusion: s.occlusion, subtle: s.subtle,
      'acc %': mean, 'sd %': std, 'per fold %': accs.map((a) => a.toFixed(1)).join(' '), 'pooled %': 100 * pooledAccuracy(cal[name]).acc,
      run_id: cal[name].runId,
    };
  });
}

export type CalibrationCheck = { check: string; band: string; measured: string; holds: boolean };

/** The three checks against their bands. */
export function calibrationChecks(cal: Calibration): CalibrationCheck[] {
  const m = (name: CalibrationRun) => meanStd(accuracies(cal[name])).mean;
  const [lo, hi] = CALIBRATION_BANDS.defaultRange;
  const cost = m('no confound') - m('default');
  const regained = m('oracle NDF') - m('default');
  return [
    { check: 'clean ceiling', band: `≥ ${CALIBRATION_BANDS.clean} %`, measured: `${m('clean').toFixed(1)} %`, holds: m('clean') >= CALIBRATION_BANDS.clean },
    { check: 'default', band: `${lo}–${hi} %`, measured: `${m('default').toFixed(1)} %`, holds: m('default') >= lo && m('default') <= hi },
    { check: 'cost of the identity confound', band: `≥ ${CALIBRATION_BANDS.confoundCost} points`, measured: `${cost.toFixed(1)} points (no confound − default)`, holds: cost >= CALIBRATION_BANDS.confoundCost },
    {
      check: 'won back by the oracle NDF', band: `≥ ${100 * CALIBRATION_BANDS.oracleRecovery} % of that cost`,
      measured: `${regained.toFixed(1)} points = ${cost > 0 ? ((100 * regained) / cost).toFixed(0) : 'n/a'} %`, holds: cost > 0 && regained >= CALIBRATION_BANDS.oracleRecovery * cost,
    },
  ];
}

/** Test accuracy per fold of every run (figures). */
export function calibrationFoldRows(cal: Calibration): Row[] {
  return CALIBRATION_RUNS.flatMap(([name]) => finalAccuracies(cal[name]).map((a) => ({ run: name, fold: a.fold + 1, acc: 100 * a.test_acc })));
}

/** Training and test accuracy per epoch, mean over folds, of every run: does training accuracy plateau? */
export function calibrationCurveRows(cal: Calibration): Row[] {
  return CALIBRATION_RUNS.flatMap(([name]) => {
    const byEpoch = new Map<number, { train: number[]; test: number[] }>();
    for (const r of frameRows(cal[name].results)) {
      const e = byEpoch.get(r.epoch as number) ?? { train: [], test: [] };
      e.train.push(r.train_acc as number);
      e.test.push(r.test_acc as number);
      byEpoch.set(r.epoch as number, e);
    }
    return [...byEpoch].flatMap(([epoch, e]) => [
      { run: name, epoch, split: 'training faces', acc: 100 * meanStd(e.train).mean },
      { run: name, epoch, split: 'unseen subjects', acc: 100 * meanStd(e.test).mean },
    ]);
  });
}
