/**
 * Notebook 04's tables and figures from stored IDFERM results: HNG training
 * curves, the query / generated / ground-truth grid, identity-distance
 * histograms (Fig. 10), comparison counts (§4 / Table 2 analogue), the λ and
 * LReLU-slope sweeps (Figs. 11, 12), the 8-class neutral accuracy (Fig. 13b)
 * and the computed "what holds" verdicts (the paper's claims and our checks). Notebook 07 redraws
 * the same figures through these functions.
 * @see notebooks/04-idferm.ipynb
 */
import type { FerSet } from '../data/dataset';
import { imageGrid } from '../data/grid';
import type { FigureSpec } from '../figures/render';
import { finalAccuracies, frameRows, type Row, type StoredRun } from '../results/store';
import { type HngEvaluation, type HngStage } from './idferm-hng/stage';
import { frontalImages } from './idferm-hng/face-db';
import { idfermSweepRuns, loadIdfermSet, type SweepRun, usesNeutralClass } from './idferm';
import type { Config } from '../config';
import { runExperiment, type RunResult } from './runner';
import { ensurePretrainManifest, pretrainRunConfig } from './idferm-pretrain';
import { runStudy, type StudyRun } from './study-runs';
import { formatP, formatPaired, pairedTest, type PairedOptions, type PairedTest } from '../analysis/paired';
import { mean, meanStd } from '../analysis/stats';
import { bestValidationRows } from '../train/lr-plateau';
import { paperTable } from '../results/paper-tables';

/** The runs every `npm start` trains: the central claim, IDFERM against softmax; the others are shown once `npm run study` stored them. */
export const MAIN_VARIANTS = ['softmax', 'idferm'];

export interface IdfermStudy {
  /** stored runs of idfermVariants, in its order */
  runs: RunResult[];
  /** the stored points of the λ and slope sweeps */
  sweep: { point: SweepRun; run: RunResult }[];
  /** what is listed but not stored (`npm run study` trains it) */
  missing: string[];
}

/** One planned run of notebook 04: a variant, or a point of the λ / slope sweeps. */
export interface IdfermStudyRun extends StudyRun { point: SweepRun | null }

/**
 * Notebook 04's runs: its variants (idfermVariants; the 8-class ones on `set8`) and the sweep points. Variants
 * outside MAIN_VARIANTS and the sweeps train only with config.study.
 */
export function planIdfermStudy(config: Config, set: FerSet, set8: FerSet | null): IdfermStudyRun[] {
  const variants = config.idfermVariants.split(',').map((v) => v.trim()).filter(Boolean);
  return [
    ...variants.map((v) => ({ name: v, variant: v, options: {}, data: usesNeutralClass(v) ? set8 : set, main: MAIN_VARIANTS.includes(v), point: null as SweepRun | null })),
    ...idfermSweepRuns(config).map((p) => ({ name: `${p.param} = ${p.value}`, variant: p.variant, options: p.options, data: set, main: false, point: p })),
  ].map((p) => {
    if (!p.data) throw new Error(`IDFERM variant '${p.variant}' needs the 8-class set (loadIdfermSet(config, { neutralClass: true }))`);
    const run = { config, method: 'idferm', variant: p.variant, options: p.options, set: p.data };
    return { name: p.name, point: p.point, run, train: config.study || p.main };
  });
}

/** The 8-class set notebook 04 loads when a listed variant needs it (idfermVariants), else null. */
export const idfermStudySet8 = async (config: Config): Promise<FerSet | null> =>
  (config.idfermVariants.split(',').map((v) => v.trim()).some(usesNeutralClass)
    ? loadIdfermSet(config, { neutralClass: true }) : null);

/** Runs (or reuses) notebook 04's runs (planIdfermStudy), all at once: their folds share the fold pool. */
export async function runIdfermStudy(config: Config, set: FerSet, set8: FerSet | null): Promise<IdfermStudy> {
  const planned = planIdfermStudy(config, set, set8);
  const results = await runStudy(planned);
  return {
    runs: results.filter((r, i): r is RunResult => r !== null && planned[i].point === null),
    sweep: planned.flatMap((p, i) => (p.point && results[i] ? [{ point: p.point, run: results[i]! }] : [])),
    missing: planned.filter((_, i) => !results[i]).map((p) => p.name),
  };
}

/** Generator / discriminator / identity losses per HNG epoch (one panel per loss). */
export function hngCurvesSpec(rows: Row[], title = 'HNG training losses per epoch'): FigureSpec {
  const long = rows.flatMap((r) => ['gen', 'feat', 'id', 'pixel', 'sym', 'adv', 'dis']
    .filter((k) => typeof r[k] === 'number' && Number.isFinite(r[k] as number)).map((k) => ({ variant: r.variant, phase: r.phase, epoch: r.epoch, loss: k, value: r[k] })));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json', title, data: { values: long },
    facet: { field: 'loss', type: 'nominal', title: null }, columns: 4, resolve: { scale: { y: 'independent' } },
    spec: { width: 150, height: 100, mark: { type: 'line', point: true }, encoding: {
      x: { field: 'epoch', type: 'quantitative' }, y: { field: 'value', type: 'quantitative', title: null }, color: { field: 'variant', type: 'nominal' } } },
  } as FigureSpec;
}

/** Fig. 10 analogue: evaluator distance between input and generated face, per HNG variant, with the threshold. */
export function idDistanceSpec(evals: HngEvaluation[]): FigureSpec {
  const values = evals.flatMap((e) => e.idDistances.map((d) => ({ variant: e.variant, distance: d })));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json', title: 'Identity distance |emb(x) − emb(HNG(x))| on the FER faces (evaluator IdNet-B)',
    width: 420, height: 180,
    layer: [
      { data: { values }, mark: { type: 'bar', opacity: 0.55 }, encoding: {
        x: { field: 'distance', type: 'quantitative', bin: { maxbins: 30 } }, y: { aggregate: 'count', type: 'quantitative', stack: null }, color: { field: 'variant', type: 'nominal' } } },
      { data: { values: [{ t: evals[0]?.threshold ?? 0 }] }, mark: { type: 'rule', color: 'black', strokeDash: [4, 3] }, encoding: { x: { field: 't', type: 'quantitative' } } },
    ],
  } as FigureSpec;
}

/** Bars of distance evaluations per batch and seconds per epoch, per variant. */
export function costSpec(rows: { variant: string; evalsPerBatch: number; secondsPerEpoch: number }[]): FigureSpec {
  const values = rows.flatMap((r) => [{ variant: r.variant, measure: 'distance evaluations per batch', value: r.evalsPerBatch }, { variant: r.variant, measure: 'seconds per epoch', value: r.secondsPerEpoch }]);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json', title: 'Cost of each metric loss (our runs)', data: { values },
    facet: { field: 'measure', type: 'nominal', title: null }, resolve: { scale: { x: 'independent' } },
    spec: { width: 220, height: 120, mark: 'bar', encoding: { y: { field: 'variant', type: 'nominal' }, x: { field: 'value', type: 'quantitative', title: null } } },
  } as FigureSpec;
}

/** The HNG stages' training losses (warm-up, then the full objective), one colour per variant. */
export const hngStagesCurvesSpec = (stages: HngStage[]) => hngCurvesSpec(stages.flatMap((s) => s.curves));

/** The identity networks' cross-entropy per epoch (IdNet-A for the losses, IdNet-B the evaluator). */
export const idnetCurvesSpec = (stage: HngStage) =>
  hngCurvesSpec(stage.idnetCurves.map((r) => ({ ...r, variant: `IdNet-${String(r.net).toUpperCase()}`, gen: r.loss })), 'Identity networks: cross-entropy per epoch');

/**
 * Figs. 5 and 9 analogue: one row per class for the first subject of the set:
 * its query, what each HNG variant makes of it and (SynFER) the ground-truth
 * frontal neutral face.
 */
export async function hngReferenceGrid(set: FerSet, stages: HngStage[], refs: Float32Array[]): Promise<Buffer> {
  const shown = set.classes.map((_, c) => set.labels.findIndex((l, i) => l === c && set.subjects[i] === set.subjects[0])).filter((i) => i >= 0);
  const truth = set.rows.every((r) => r.frontal_path) ? [{ label: 'truth', images: await frontalImages(set) }] : [];
  return referenceGrid(set, shown, [...stages.map((s, i) => ({ label: s.variant, images: refs[i] })), ...truth]);
}

/** Rows: query, HNG output(s), ground-truth frontal face, for `n` samples. */
export async function referenceGrid(set: FerSet, samples: number[], columns: { label: string; images: Float32Array }[]): Promise<Buffer> {
  const per = set.size * set.size;
  return imageGrid(samples.map((s) => [{ pixels: set.images.subarray(s * per, (s + 1) * per), size: set.size, channels: 1 },
    ...columns.map((c) => ({ pixels: c.images.subarray(s * per, (s + 1) * per), size: set.size, channels: 1 as const }))]), {
    cell: 64, colLabels: ['query', ...columns.map((c) => c.label)], rowLabels: samples.map((s) => set.classes[set.labels[s]]),
  });
}

/**
 * Last-epoch test accuracy (%) per fold (mean ± sample std, as every notebook reports), and run-level cost measures;
 * under the paper's learning-rate rule (idfermLrPlateau) also each fold's best-validation epoch and its test accuracy
 * (chosen by validation, never by test; our choice), else null.
 */
export function runSummary(run: StoredRun) {
  const accs = finalAccuracies(run).map((r) => 100 * r.test_acc);
  const rows = frameRows(run.results);
  const best = bestValidationRows(rows.map((r) => ({ fold: Number(r.fold), epoch: Number(r.epoch), testAcc: Number(r.test_acc), best_epoch: r.best_epoch === undefined ? undefined : Number(r.best_epoch) })));
  const bestValidation = best.length ? { epochs: best.map((r) => r.epoch), accs: best.map((r) => 100 * r.testAcc) } : null;
  const last = rows.filter((r) => r.epoch === Math.max(...rows.map((x) => Number(x.epoch))));
  const evalsPerQuery = mean(last.map((r) => Number(r.loss_evals ?? 0)));
  const secondsPerEpoch = mean(rows.map((r) => Number(r.n_train) / Number(r.images_per_s)));
  const classes = run.config.data?.classes.length ?? NaN;
  // K = 2C queries per batch (IDFERM Sec. 5.3): 14 on 7 classes, 16 on the 8-class protocol
  return { variant: run.config.variant, accs, ...meanStd(accs), evalsPerQuery, queriesPerBatch: 2 * classes, evalsPerBatch: evalsPerQuery * 2 * classes, secondsPerEpoch, bestValidation };
}

type Summary = ReturnType<typeof runSummary>;

/** Test accuracy (%) on one class, pooled over the folds' final predictions (Fig. 13b: neutral on CK+ 8-class). */
export function classAccuracy(run: StoredRun, classes: string[], name: string): number | null {
  const c = classes.indexOf(name);
  if (c < 0) return null;
  const rows = frameRows(run.predictions).filter((r) => Number(r.label) === c);
  return rows.length ? (100 * rows.filter((r) => Number(r.prediction) === c).length) / rows.length : null;
}

/** One point of a sweep: the option value and the fold accuracies of its run. */
export interface SweepPoint { param: SweepRun['param']; value: number; accs: number[]; mean: number; std: number }

export const sweepPoints = (sweep: SweepRun[], runs: StoredRun[]): SweepPoint[] =>
  sweep.map((s, i) => { const accs = finalAccuracies(runs[i]).map((r) => 100 * r.test_acc); return { param: s.param, value: s.value, accs, ...meanStd(accs) }; });

/** What the paper reports for each sweep (no numbers are printed, only the shape of the curve). */
export const SWEEP_PAPER = {
  lambda: { figure: 'Fig. 11', axis: 'λ (weight of the RML loss)', band: [0.95, 1] as [number, number], default: 1,
    shape: 'CK+ (7-class) accuracy rises with λ from the softmax-only end and peaks for λ in [0.95, 1] (no numbers printed)' },
  lreluSlope: { figure: 'Fig. 12', axis: 'LReLU slope α in the RML network', band: [0.075, 0.125] as [number, number], default: 0.1,
    shape: 'CK+ (7-class) accuracy is flat for α in [0.075, 0.125] (no numbers printed)' },
};

/** Figs. 11 / 12: fold-mean accuracy ± std against the swept value, with the paper's band shaded. */
export function sweepSpec(points: SweepPoint[], param: SweepRun['param']): FigureSpec {
  const p = SWEEP_PAPER[param];
  const values = points.filter((x) => x.param === param).map((x) => ({ value: x.value, acc: x.mean, lo: x.mean - x.std, hi: x.mean + x.std, source: 'ours (fold mean ± std)' }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json', title: `${p.figure} analogue: accuracy against ${p.axis}`, width: 360, height: 200,
    layer: [
      { data: { values: [{ lo: p.band[0], hi: p.band[1], label: `paper: ${p.figure} band` }] }, mark: { type: 'rect', opacity: 0.15, color: '#e45756' },
        encoding: { x: { field: 'lo', type: 'quantitative' }, x2: { field: 'hi' } } },
      { data: { values }, mark: { type: 'errorbar' }, encoding: { x: { field: 'value', type: 'quantitative', title: p.axis }, y: { field: 'lo', type: 'quantitative', title: 'test accuracy (%)', scale: { zero: false } }, y2: { field: 'hi' } } },
      { data: { values }, mark: { type: 'line', point: true }, encoding: { x: { field: 'value', type: 'quantitative' }, y: { field: 'acc', type: 'quantitative' }, color: { field: 'source', type: 'nominal', title: null } } },
    ],
  } as FigureSpec;
}

type Claim = { claim: string; paper: string; ours: string; p: string; holds: string };
const notRun = (claim: string, paper: string): Claim => ({ claim, paper, ours: '-', p: '–', holds: 'not run' });
const described = (claim: string, paper: string, ours: string, holds: boolean): Claim =>
  ({ claim, paper, ours, p: '–', holds: holds ? 'yes' : 'no' });
/** a − b per fold (accuracies in %, same folds in the same order) with the shared paired test. */
const foldDifference = (a: number[], b: number[], opts: PairedOptions = {}) => pairedTest(a.map((x, i) => x - b[i]), opts);

/**
 * Insensitivity to a setting, from the shared rule in both directions: 'no' when some value beats the default or
 * loses to it (p < 0.05), 'yes' when no value can be a point better or a point worse (both directions 'no'),
 * 'unclear' otherwise.
 */
function insensitive(diffs: PairedTest[]): string {
  const both = diffs.map((d) => [d.verdict, pairedTest(d.diffs.map((x) => -x)).verdict]);
  if (both.some((v) => v.includes('yes'))) return 'no';
  return both.every((v) => v[0] === 'no' && v[1] === 'no') ? 'yes' : 'unclear';
}

/** Fig. 11 / 12 claims from the sweep points: λ = 0 is worst; no slope differs from the default by a point or more. */
function sweepVerdicts(points: SweepPoint[]): Claim[] {
  const out: Claim[] = [];
  const at = (param: SweepRun['param'], v: number) => points.find((x) => x.param === param && x.value === v);
  const lam = points.filter((x) => x.param === 'lambda');
  const curve = (xs: SweepPoint[], name: string) => xs.map((x) => `${name}=${x.value}: ${x.mean.toFixed(1)}`).join(', ');
  const l0 = at('lambda', 0), l1 = at('lambda', 1);
  const lambdaClaim = 'Fig. 11: the RML term helps (λ = 1 beats λ = 0, and λ = 0 is the worst value)';
  if (l0 && l1 && lam.length >= 2) {
    const d = foldDifference(l1.accs, l0.accs);
    const worst = lam.every((x) => x.value === 0 || x.mean >= l0.mean);
    out.push({
      claim: lambdaClaim, paper: SWEEP_PAPER.lambda.shape, ours: `${curve(lam, 'λ')} (λ = 1 − λ = 0: ${formatPaired(d)})`,
      p: formatP(d.p), holds: worst ? d.verdict : 'no',
    });
  } else out.push(notRun(lambdaClaim, SWEEP_PAPER.lambda.shape));
  const sl = points.filter((x) => x.param === 'lreluSlope'), base = at('lreluSlope', 0.1);
  const slopeClaim = 'Fig. 12: accuracy is insensitive to the LReLU slope';
  if (base && sl.length >= 2) {
    const diffs = sl.filter((x) => x !== base).map((x) => foldDifference(x.accs, base.accs));
    const largest = diffs.reduce((a, d) => (Math.abs(d.mean) > Math.abs(a.mean) ? d : a));
    out.push({ claim: slopeClaim, paper: SWEEP_PAPER.lreluSlope.shape,
      ours: `${curve(sl, 'α')} (largest paired difference to α = 0.1: ${formatPaired(largest)})`,
      p: diffs.map((d) => formatP(d.p)).join(', '), holds: insensitive(diffs) });
  } else out.push(notRun(slopeClaim, SWEEP_PAPER.lreluSlope.shape));
  return out;
}

/**
 * The claims of the IDFERM paper, each judged from the stored numbers ('yes' / 'no' / 'unclear' / 'not run'):
 * accuracy claims compare two variants fold by fold with the shared rule (pairedTest, p beside the verdict);
 * "at least matches" claims are non-inferiority claims and take minEffect 0, so only a significant loss is a 'no'.
 */
export function idfermVerdicts(
  summaries: Summary[], evals: HngEvaluation[], queriesPerBatch: number,
  extra: { sweep?: SweepPoint[]; neutralAccuracy?: number | null } = {},
): Claim[] {
  const by = (v: string) => summaries.find((s) => s.variant === v);
  const ev = (v: string) => evals.find((e) => e.variant === v);
  const fmt = (x: number) => x.toFixed(2);
  const out: Claim[] = [];
  const idf = by('idferm'), sm = by('softmax'), nm = by('2bnm'), orc = by('idferm-oracle');
  const evalClaim = 'RML makes 2K distance evaluations per batch';
  out.push(idf
    ? described(evalClaim, '2K (§4)', `${fmt(idf.evalsPerQuery * queriesPerBatch)} at K = ${queriesPerBatch}`,
      Math.abs(idf.evalsPerQuery - 2) < 1e-9)
    : notRun(evalClaim, '2K (§4)'));
  const full = ev('full'), noId = ev('no-id');
  const closer = full?.closerPct == null ? '' : ` (x* closer on ${full.closerPct.toFixed(0)} % of faces)`;
  out.push(full && full.l1ToOracle !== null
    ? described('the HNG neutralises: |x* − truth| < |x − truth|', 'Figs. 5, 9',
      `${full.l1ToOracle.toFixed(3)} vs ${full.l1InputToOracle!.toFixed(3)}${closer}`, full.l1ToOracle < full.l1InputToOracle!)
    : notRun('the HNG neutralises', 'Figs. 5, 9'));
  out.push(full && noId
    ? described('the identity loss lowers identity errors', 'Table 1: 2.13 % -> 0.1 %',
      `${fmt(full.identityErrorPct)} % vs ${fmt(noId.identityErrorPct)} % without`, full.identityErrorPct <= noId.identityErrorPct)
    : notRun('the identity loss lowers identity errors', 'Table 1'));
  const pairClaim = (claim: string, paper: string, a?: Summary, b?: Summary, opts: PairedOptions = {}): Claim => {
    if (!a || !b) return notRun(claim, paper);
    const d = foldDifference(a.accs, b.accs, opts);
    const ours = `${fmt(a.mean)} vs ${fmt(b.mean)} % (paired ${formatPaired(d)})`;
    return { claim, paper, ours, p: formatP(d.p), holds: d.verdict };
  };
  const atLeast = { minEffect: 0 };
  out.push(pairClaim('IDFERM beats softmax alone on unseen subjects', 'Tables 3, 6', idf, sm));
  out.push(pairClaim('IDFERM at least matches 2B(N+M) (within 0.5 pt)', 'Table 3: +1.25 / +2.60 pt', idf, nm,
    { ...atLeast, margin: -0.5 }));
  out.push(pairClaim('pre-training on the face database helps IDFERM', 'Table 5: +0.03 (CK+) / +0.02 (MMI) pt', by('idferm-pretrained'), idf));
  out.push(pairClaim('pre-training on the face database helps 2B(N+M)', 'Table 5: +0.07 (CK+) / +0.07 (MMI) pt', by('2bnm-pretrained'), nm));
  out.push(pairClaim('oracle references are at least as good as generated ones', 'our check (not a paper claim)', orc, idf, atLeast));
  out.push(pairClaim('sparse subjects: IDFERM beats 2B(N+M)', 'motivation (§1)', by('idferm-sparse'), by('2bnm-sparse')));
  out.push(pairClaim('8 classes: IDFERM beats softmax alone', 'Table 4 (97.76 %; no softmax row)', by('idferm-8class'), by('softmax-8class')));
  const n8 = extra.neutralAccuracy;
  const neutralClaim = '8 classes: the neutral class is recognised almost always';
  out.push(n8 === undefined || n8 === null ? notRun(neutralClaim, 'Fig. 13b: about 99 %')
    : described(neutralClaim, 'Fig. 13b: about 99 %', `${fmt(n8)} % of neutral test faces`, n8 >= 95));
  out.push(...sweepVerdicts(extra.sweep ?? []));
  return out;
}

/**
 * Table 5 as printed (every row, the paper's accuracy per dataset) with our
 * run of the linked variant beside it: fold-mean ± std, '–' when this
 * profile did not run that variant.
 */
export function table5Rows(summaries: Summary[], profile: string) {
  const t = paperTable('idferm.table5');
  return t.rows.map((r) => {
    const link = t.ours.find((l) => l.paperRow === r.label);
    const s = link && summaries.find((x) => x.variant === link.ours.variant);
    return {
      'paper row': r.label,
      ...Object.fromEntries(t.columns.map((c) => [`paper ${c.label} %`, r.values[c.key]])),
      'our variant': link?.ours.variant ?? '–',
      [`ours % (${profile}, mean ± std)`]: s ? `${s.mean.toFixed(1)} ± ${s.std.toFixed(1)}` : '–',
    };
  });
}

/** One row about the pretraining stage run: its face database and the accuracy on its held-out subjects at the last epoch. */
export function pretrainSummary(run: StoredRun) {
  const rows = frameRows(run.results);
  const last = rows[rows.length - 1];
  const classes = run.config.data?.classes ?? [];
  return {
    stage: run.runId, 'face database (manifest)': run.config.manifest, images: run.config.data?.samples ?? null, classes: classes.join(', '),
    epochs: run.config.totalEpochs, 'validation accuracy % (held-out subjects)': 100 * Number(last.test_acc), 'chance %': 100 / classes.length,
  };
}

/** Interface-typed records (e.g. compareWithPaper's) as plain table rows for showTable. */
export const tableRows = <T extends object>(rows: T[]): Record<string, string | number | boolean | null>[] =>
  rows.map((r) => ({ ...r }) as Record<string, string | number | boolean | null>);

/**
 * The stage run of a configuration (trained once, then read from the store),
 * as a fine-tuning run with default network options fetches it.
 */
export async function pretrainStage(
  config: Config, variant: 'joint' | 'softmax' = 'joint', opts: { resultsDir?: string; progress?: null } = {},
) {
  const manifest = await ensurePretrainManifest(config);
  return runExperiment({ config: pretrainRunConfig(config, manifest), method: 'idferm-pretrain', variant, ...opts });
}
