/**
 * Redraws every figure notebooks 02–06 draw, from the stored runs alone
 * (data/results): it plans the same runs the notebooks make (same study
 * configurations, planRun) and draws a figure only when all the runs it
 * needs are complete; otherwise the figure is listed as missing. Nothing is
 * trained here: stored fold checkpoints are loaded for embeddings and
 * attention maps, and the cached SynFER sets are regenerated if absent.
 * @see notebooks/07-figures.ipynb
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Config } from '../config';
import { loadDataset, FerSet } from '../data/dataset';
import { writeFileAtomic } from '../core/atomic-write';
import { planRun } from '../experiments/runner';
import * as spndl from '../experiments/spndl-study';
import * as gndl from '../experiments/gndl-study';
import { idfermConfig, idfermSweepRuns, loadIdfermSet, usesNeutralClass } from '../experiments/idferm';
import { disposeHngStage, evaluateHng, generateReferences, loadHngStage } from '../experiments/idferm-hng/stage';
import { costSpec, hngReferenceGrid, MAIN_VARIANTS, hngStagesCurvesSpec, idDistanceSpec, idnetCurvesSpec, runSummary, sweepPoints, sweepSpec } from '../experiments/idferm-report';
import { ddlConfig, loadDdlData } from '../experiments/ddl';
import { redrawComparisonFigures } from './comparison';
import { attentionFigure, testSamplesPerClass } from '../experiments/ddl-report';
import { isComplete, loadRun, StoredRun, RESULTS_DIR } from '../results/store';
import type { PaperKey } from '../results/paper-tables';
import { confusionHeatmapSpec, learningCurvesSpec, runClasses } from './charts';
import { paceAccuracySpec, trainLossSpec, ndfEmbeddingSpec, excludedGrid } from './spndl';
import { deviationEmbeddingSpec, hardSampleGrid, hardSamples, lambdaCurveSpec } from './gndl';
import { renderFigure, FigureSpec } from './render';
import { figuresDir, PROJECT_ROOT } from '../paths';

export type RegeneratedFigure = {
  /** figure name, e.g. 'spndl/fig5-accuracy-per-pace' */
  figure: string;
  /** file written (relative to the project root), or 'missing: …' with the reason */
  file: string;
  /** the paper figure it reproduces, e.g. 'SPNDL Fig. 5' */
  paperFigure: string;
  /** run ids it was drawn from (or the runs it lacks) */
  source: string;
};

export interface RegenerateOptions {
  resultsDir?: string;
  /** output folder, by default figures/ */
  figuresDir?: string;
  /** papers to redraw (default: all four) */
  papers?: PaperKey[];
  /** also redraw notebook 06's comparison figures (default: when no papers are named) */
  comparison?: boolean;
  /** datasets already loaded (tests), instead of loading each study's set */
  sets?: Partial<Record<PaperKey, FerSet>>;
}

/** One figure: the run keys it needs and how to draw it (returns the file written). */
interface Job {
  figure: string;
  paperFigure: string;
  needs: string[];
  draw: () => Promise<string>;
  /** a reason it cannot be drawn even when its runs exist */
  unavailable?: string;
}

interface Study {
  notebook: string;
  /** planned run id and directory per key */
  plans: Record<string, { runId: string; dir: string }>;
  runs: Record<string, StoredRun>;
  /** keys only `npm run study` trains (the notebook just shows them when stored) */
  studyOnly: Set<string>;
}

function study(notebook: string, plans: Study['plans'], studyOnly: string[] = []): Study {
  const runs: Record<string, StoredRun> = {};
  for (const [key, p] of Object.entries(plans)) if (isComplete(p.dir)) runs[key] = loadRun(p.dir);
  return { notebook, plans, runs, studyOnly: new Set(studyOnly) };
}

/** What trains a lacking run: the notebook itself, or `npm run study` for the study-only ones. */
function missingReason(s: Study, lacking: string[]): string {
  const ids = lacking.map((k) => s.plans[k].runId).join(', ');
  const how = lacking.every((k) => s.studyOnly.has(k)) ? 'run `npm run study` (or the notebook with FER_STUDY=1) first' : `run notebook ${s.notebook} first`;
  return `missing: ${how} (no complete run ${ids})`;
}

async function runJobs(s: Study, jobs: Job[]): Promise<RegeneratedFigure[]> {
  const out: RegeneratedFigure[] = [];
  for (const job of jobs) {
    const lacking = job.needs.filter((k) => !s.runs[k]);
    const source = job.needs.map((k) => s.plans[k].runId).join(', ');
    if (lacking.length) {
      out.push({ figure: job.figure, paperFigure: job.paperFigure, source, file: missingReason(s, lacking) });
    } else if (job.unavailable) {
      out.push({ figure: job.figure, paperFigure: job.paperFigure, source, file: `missing: ${job.unavailable}` });
    } else {
      out.push({ figure: job.figure, paperFigure: job.paperFigure, source, file: await job.draw() });
    }
  }
  return out;
}

/** Redraws every figure of notebooks 02–05 that the stored runs allow; lists the others as missing. */
export async function regenerateFigures(config: Config, opts: RegenerateOptions = {}): Promise<RegeneratedFigure[]> {
  const dir = opts.figuresDir ?? figuresDir();
  const resultsDir = opts.resultsDir ?? RESULTS_DIR;
  const vega = async (spec: FigureSpec, name: string) => (await renderFigure(spec, name, dir)).files[0];
  const png = (bytes: Buffer, name: string) => {
    const file = path.join(dir, `${name}.png`);
    writeFileAtomic(file, bytes);
    return path.relative(PROJECT_ROOT, file);
  };
  const planOf = (cfg: Config, run: { method: string; variant: string }, set: FerSet) => {
    const p = planRun({ config: cfg, ...run, set, resultsDir });
    return { runId: p.runId, dir: p.dir };
  };
  const papers = opts.papers ?? ['spndl', 'gndl', 'idferm', 'ddl'];
  const out: RegeneratedFigure[] = [];

  if (papers.includes('spndl')) {
    const cfg = spndl.spndlConfig(config);
    const set = opts.sets?.spndl ?? await loadDataset(cfg);
    const variants = spndl.spndlVariants(set);
    const s = study('02', Object.fromEntries(variants.map((v) => [v, planOf(cfg, spndl.spndlRunOf(v), set)])), variants.filter((v) => !spndl.MAIN_VARIANTS.includes(v)));
    const main = variants.includes('spndl') ? 'spndl' : 'spndl-won';
    // like notebook 02, the pace figures need the main runs and show whichever study-only runs are stored
    const paceNeeds = variants.filter((v) => !s.studyOnly.has(v));
    const snapshots = spndl.SNAPSHOT_PACES.every((p) => fs.existsSync(spndl.snapshotFile(s.plans[main].dir, 0, p)));
    out.push(...await runJobs(s, [
      { figure: 'spndl/fig4-confusion', paperFigure: 'SPNDL Fig. 4', needs: [main], draw: () => vega(confusionHeatmapSpec(s.runs[main].predictions, set.classes, `${main}: confusion (% of each true class)`), 'spndl/fig4-confusion') },
      { figure: 'spndl/fig5-accuracy-per-pace', paperFigure: 'SPNDL Fig. 5', needs: paceNeeds, draw: () => vega(paceAccuracySpec(spndl.paceAccuracyRows(s.runs)), 'spndl/fig5-accuracy-per-pace') },
      { figure: 'spndl/fig6-training-loss', paperFigure: 'SPNDL Fig. 6', needs: paceNeeds, draw: () => vega(trainLossSpec(spndl.trainLossRows(s.runs), s.runs[main].config.paceEpochs), 'spndl/fig6-training-loss') },
      {
        figure: 'spndl/fig7-ndf-embedding', paperFigure: 'SPNDL Fig. 7', needs: [main],
        unavailable: snapshots ? undefined : `the run ${s.plans[main].runId} has no pace snapshots of fold 0; rerun notebook 02 with FER_FORCE=1`,
        draw: async () => vega(ndfEmbeddingSpec((await spndl.ndfEmbedding(s.runs[main], set, 0, cfg.seed)).points), 'spndl/fig7-ndf-embedding'),
      },
      { figure: 'spndl/fig8-excluded', paperFigure: 'SPNDL Fig. 8', needs: [main], draw: async () => png(await excludedGrid(set, spndl.excludedSamples(s.runs[main], set, 0, 12, cfg.seed)), 'spndl/fig8-excluded') },
    ]));
  }

  if (papers.includes('gndl')) {
    const cfg = gndl.gndlConfig(config);
    const set = opts.sets?.gndl ?? await loadDataset(cfg);
    const variants = gndl.gndlStudyVariants(cfg);
    // the figures of the λ = 5 run are drawn even when gndlVariants leaves it out (then listed as missing)
    const s = study('03', Object.fromEntries([...new Set([...variants, 'gndl', 'baseline'])].map((v) => [v, planOf(cfg, gndl.gndlRunOf(v), set)])), variants.filter((v) => !gndl.MAIN_VARIANTS.includes(v)));
    const main = ['gndl'];
    const lambdaNeeds = variants.filter((v) => !s.studyOnly.has(v));
    out.push(...await runJobs(s, [
      { figure: 'gndl/curves', paperFigure: 'none (GNDL training curves)', needs: main, draw: () => vega(learningCurvesSpec(s.runs.gndl.results, ['loss_cls', 'loss_neu', 'test_acc'], 'GNDL (λ = 5): losses and test accuracy per fold'), 'gndl/curves') },
      { figure: 'gndl/fig6-confusion', paperFigure: 'GNDL Fig. 6', needs: main, draw: () => vega(confusionHeatmapSpec(s.runs.gndl.predictions, set.classes, 'GNDL, all test folds (% of each true class)'), 'gndl/fig6-confusion') },
      { figure: 'gndl/fig7-lambda', paperFigure: 'GNDL Fig. 7', needs: lambdaNeeds, draw: () => vega(lambdaCurveSpec(gndl.lambdaRows(s.runs), { label: 'paper, CK+ (λ = 5)', acc: 0.9969 }), 'gndl/fig7-lambda') },
      {
        figure: 'gndl/fig8-deviations', paperFigure: 'GNDL Fig. 8', needs: main, draw: async () => {
          const diag = await gndl.neutralDiagnostics(s.runs.gndl, set, { keepFold: cfg.seed % cfg.folds, resultsDir });
          if (!diag.kept) throw new Error(`run ${s.runs.gndl.runId}: fold ${cfg.seed % cfg.folds} is not among its test folds`);
          return vega(deviationEmbeddingSpec(gndl.deviationEmbedding(diag.kept, set, cfg.seed)), 'gndl/fig8-deviations');
        },
      },
      {
        figure: 'gndl/fig9-hard-samples', paperFigure: 'GNDL Fig. 9', needs: ['baseline', 'gndl'],
        draw: async () => png(await hardSampleGrid(set, hardSamples(s.runs.baseline, s.runs.gndl, set.classes)), 'gndl/fig9-hard-samples'),
      },
    ]));
  }

  if (papers.includes('idferm')) {
    const cfg = idfermConfig(config);
    const set = opts.sets?.idferm ?? await loadDataset(cfg);
    const variants = cfg.idfermVariants.split(',').map((v) => v.trim());
    // the 8-class variants run on the set with the neutral frames as a class (loaded only when listed)
    const eight = usesNeutralClass;
    const set8 = variants.some(eight) ? await loadIdfermSet(cfg, { neutralClass: true }) : null;
    const sweep = idfermSweepRuns(cfg);
    const sweepKey = (i: number) => `${sweep[i].param}=${sweep[i].value}`;
    const planned = (variant: string, options: Record<string, number> = {}) => {
      const p = planRun({ config: cfg, method: 'idferm', variant, options, set: eight(variant) ? set8! : set, resultsDir });
      return { runId: p.runId, dir: p.dir };
    };
    const s = study('04', Object.fromEntries([...variants.map((v) => [v, planned(v)]), ...sweep.map((r, i) => [sweepKey(i), planned(r.variant, r.options)])]),
      [...variants.filter((v) => !MAIN_VARIANTS.includes(v)), ...sweep.map((r, i) => sweepKey(i))]);
    const costVariants = variants.filter((v) => s.runs[v] || !s.studyOnly.has(v));
    const main = variants.includes('idferm') ? 'idferm' : variants[0];
    out.push(...await hngFigures(cfg, set, { vega, png, resultsDir }));
    const sweepJob = (param: 'lambda' | 'lreluSlope', figure: string, paperFigure: string): Job => {
      const idx = sweep.map((r, i) => i).filter((i) => sweep[i].param === param);
      return { figure, paperFigure, needs: idx.map(sweepKey), unavailable: idx.length ? undefined : `no ${param} values set (idferm${param === 'lambda' ? 'Lambdas' : 'Slopes'})`,
        draw: () => vega(sweepSpec(sweepPoints(idx.map((i) => sweep[i]), idx.map((i) => s.runs[sweepKey(i)])), param), figure) };
    };
    out.push(...await runJobs(s, [
      {
        figure: 'idferm/cost', paperFigure: 'IDFERM Table 2 (training cost, as a figure)', needs: costVariants,
        draw: () => vega(costSpec(costVariants.map((v) => runSummary(s.runs[v])).map((r) => ({ variant: r.variant, evalsPerBatch: r.evalsPerBatch, secondsPerEpoch: r.secondsPerEpoch }))), 'idferm/cost'),
      },
      { figure: 'idferm/fig13-confusion', paperFigure: 'IDFERM Fig. 13', needs: [main], draw: () => vega(confusionHeatmapSpec(s.runs[main].predictions, set.classes, `${main}: % of each true class`), 'idferm/fig13-confusion') },
      ...(set8 && variants.includes('idferm-8class') ? [{
        figure: 'idferm/fig13b-confusion-8class', paperFigure: 'IDFERM Fig. 13(b)', needs: ['idferm-8class'],
        draw: () => vega(confusionHeatmapSpec(s.runs['idferm-8class'].predictions, set8.classes, 'idferm-8class: % of each true class'), 'idferm/fig13b-confusion-8class'),
      }] : []),
      sweepJob('lambda', 'idferm/fig11-lambda', 'IDFERM Fig. 11'),
      sweepJob('lreluSlope', 'idferm/fig12-slope', 'IDFERM Fig. 12'),
    ]));
  }

  if (papers.includes('ddl')) {
    const cfg = ddlConfig(config);
    const set = opts.sets?.ddl ?? await loadDdlData(cfg);
    const variants = cfg.ddlVariants.split(',').map((v) => v.trim());
    const seed = Number(cfg.ddlSeeds.split(',')[0]);
    // the notebook's figures use the first seed's runs
    const s = study('05', Object.fromEntries(variants.map((v) => [v, planOf({ ...cfg, seed }, { method: 'ddl', variant: v }, set)])));
    const last = variants[variants.length - 1];
    const attention = ['baseline-mat', last].filter((v, i, a) => a.indexOf(v) === i && variants.includes(v));
    out.push(...await runJobs(s, [
      { figure: 'ddl/learning-curves', paperFigure: 'none (DDL training curves)', needs: [last], draw: () => vega(learningCurvesSpec(s.runs[last].results, ['train_loss', 'loss_ce', 'loss_adv', 'loss_at', 'test_acc'], `Learning curves: ${last}`), 'ddl/learning-curves') },
      { figure: 'ddl/confusion', paperFigure: 'none (DDL confusion matrix)', needs: [last], draw: () => vega(confusionHeatmapSpec(s.runs[last].predictions, runClasses(s.runs[last])), 'ddl/confusion') },
      ...attention.map((v): Job => ({
        figure: `ddl/attention-${v}`, paperFigure: 'DDL Fig. 5 (attention maps)', needs: [v],
        draw: async () => png((await attentionFigure(s.runs[v], set, testSamplesPerClass(s.runs[v], set), resultsDir)).png, `ddl/attention-${v}`),
      })),
    ]));
  }
  if (!opts.papers || opts.comparison) {
    // notebook 06: its runs, benchmark levels and stored model analysis (lib/figures/comparison.ts)
    out.push(...await redrawComparisonFigures(config, vega, { resultsDir }));
  }
  return out;
}

/**
 * IDFERM's generator figures (notebook 04, stage A) from the stored HNG
 * stages of idfermHngVariants: drawn only when every stage is stored
 * (loadHngStage never trains), else each is listed as missing.
 */
async function hngFigures(cfg: Config, set: FerSet, io: { vega: (spec: FigureSpec, name: string) => Promise<string>; png: (bytes: Buffer, name: string) => string; resultsDir: string }): Promise<RegeneratedFigure[]> {
  const figures: [string, string][] = [['idferm/hng-curves', 'none (HNG training losses)'], ['idferm/idnet-curves', 'none (identity-network losses)'],
    ['idferm/references', 'IDFERM Figs. 5 and 9 (generated references)'], ['idferm/fig10-id-distances', 'IDFERM Fig. 10']];
  const variants = cfg.idfermHngVariants.split(',').map((v) => v.trim());
  const stages = [];
  for (const v of variants) {
    const stage = await loadHngStage(cfg, v, { resultsDir: io.resultsDir });
    if (!stage) {
      stages.forEach(disposeHngStage);
      return figures.map(([figure, paperFigure]) => ({ figure, paperFigure, source: `HNG stage ${v}`, file: `missing: run notebook 04 first (HNG stage '${v}' is not stored under ${path.relative(PROJECT_ROOT, path.join(io.resultsDir, 'hng'))})` }));
    }
    stages.push(stage);
  }
  try {
    const source = stages.map((st) => path.relative(PROJECT_ROOT, st.dir)).join(', ');
    const refs = stages.map((st) => generateReferences(st, set));
    const evals = [];
    for (let i = 0; i < stages.length; i++) evals.push(await evaluateHng(stages[i], set, refs[i]));
    const files = [
      await io.vega(hngStagesCurvesSpec(stages), 'idferm/hng-curves'),
      await io.vega(idnetCurvesSpec(stages[0]), 'idferm/idnet-curves'),
      io.png(await hngReferenceGrid(set, stages, refs), 'idferm/references'),
      await io.vega(idDistanceSpec(evals), 'idferm/fig10-id-distances'),
    ];
    return figures.map(([figure, paperFigure], i) => ({ figure, paperFigure, source, file: files[i] }));
  } finally {
    stages.forEach(disposeHngStage);
  }
}
