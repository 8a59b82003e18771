/**
 * DDL's study (Ruan et al., ACM MM 2020; notebook 05): the runs it trains
 * (every variant of Table 1 for every seed), the DFEM runs a variant uses,
 * and the per-head accuracy of a stored DFEM (stage 1, DDL Sec. 3.2). The
 * methods themselves are in ddl.ts; this file sits above the runner.
 * @see notebooks/05-ddl.ipynb
 */
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { loadConfig, type Config } from '../config';
import { loadDataset, type FerSet } from '../data/dataset';
import { dfemForward, factorLabels, parseFactors } from '../models/ddl/dfem';
import { loadRun, readCsvRows, RUN_FILES } from '../results/store';
import { gatherImages } from '../train/batches';
import { disposeModel } from '../train/trainer';
import { cropBatch, ddlMethod, dfemLabels, dfemRequests } from './ddl';
import { dependencyRunOptions, loadFoldModel, loadSet, planRun, type RunResult } from './runner';
import { resolveRunConfig } from './settings';
import { runStudy, type StudyRun } from './study-runs';

/** One DFEM head's held-out accuracy (evaluateDfemHeads). */
export interface DfemHeadAccuracy {
  factor: string;
  column: string;
  classes: number;
  test: string;
  samples: number;
  accuracy: number;
  chance: number;
}

/**
 * Per-head held-out accuracy of a stored DFEM run's fold model: identity
 * on the held-out sequences of its training subjects (closed set), every
 * other factor on the fold's test subjects; with the majority-class share.
 */
export async function evaluateDfemHeads(runDir: string, fold = 0): Promise<DfemHeadAccuracy[]> {
  const run = loadRun(runDir);
  const base = { ...loadConfig({ FER_PROFILE: run.config.profile }), ...run.config } as unknown as Config;
  const set = await loadDataset(base);
  const p = dfemLabels(set, parseFactors(String(run.config.options.factors)));
  const folds = readCsvRows(path.join(runDir, RUN_FILES.folds));
  const testOf = new Map(folds.map((r) => [Number(r.sample), Number(r.fold)]));
  const model = await loadFoldModel(run, fold, set, path.dirname(path.dirname(runDir)));
  try {
    const dfem = model.parts.dfem;
    const isTest = (s: number) => testOf.get(s) === fold;
    const groups = {
      heldOut: Int32Array.from(set.labels.keys()).filter((s) => isTest(s)),
      closed: Int32Array.from(set.labels.keys()).filter((s) => !isTest(s) && p.closedSet[s] === 1),
    };
    const preds = new Map<string, Int32Array>();
    for (const [name, samples] of Object.entries(groups)) {
      const out: number[][] = p.factors.map(() => []);
      for (let i = 0; i < samples.length; i += 64) {
        const idx = samples.subarray(i, i + 64);
        const x = gatherImages(set.images, set.size, set.channels, idx);
        const heads = tf.tidy(() => dfemForward(dfem, cropBatch(x, run.config.ddlCrop, null, false), false).heads.map((h) => tf.argMax(h, 1)));
        heads.slice(0, p.factors.length).forEach((h, j) => out[j].push(...(h.dataSync() as Int32Array)));
        tf.dispose([x, ...heads]);
      }
      out.forEach((o, j) => preds.set(`${name}:${j}`, Int32Array.from(o)));
    }
    return p.factors.map((f, j) => {
      const which = f === 'id' ? 'closed' : 'heldOut';
      const samples = groups[which];
      const pred = preds.get(`${which}:${j}`)!;
      let n = 0, ok = 0;
      const counts = new Map<number, number>();
      samples.forEach((s, i) => {
        const y = p.labels[j][s];
        if (y < 0) return;
        n++; if (pred[i] === y) ok++;
        counts.set(y, (counts.get(y) ?? 0) + 1);
      });
      return {
        factor: f, column: factorLabels(set.rows, f).column, classes: p.classes[j].length,
        test: f === 'id' ? 'held-out sequences of training identities' : 'held-out identities', samples: n,
        accuracy: n ? ok / n : NaN, chance: n ? Math.max(...counts.values()) / n : NaN,
      };
    });
  } finally {
    disposeModel(model);
  }
}

/** Notebook 05's runs: every variant of ddlVariants for every seed of ddlSeeds, in that order (all in npm start). */
export function planDdlStudy(cfg: Config, set: FerSet): StudyRun[] {
  const variants = cfg.ddlVariants.split(',').map((v) => v.trim()).filter(Boolean);
  const seeds = cfg.ddlSeeds.split(',').map(Number);
  return seeds.flatMap((seed) => variants.map((variant) => ({
    name: seeds.length > 1 ? `${variant} (seed ${seed})` : variant,
    run: { config: { ...cfg, seed }, method: 'ddl', variant, set }, train: true,
  })));
}

/** Runs (or reuses) notebook 05's runs (planDdlStudy), all at once: their folds share the fold pool. */
export async function runDdlStudy(cfg: Config, set: FerSet): Promise<RunResult[]> {
  return (await runStudy(planDdlStudy(cfg, set))) as RunResult[];
}

/**
 * The DFEM run directories a DDL run of `variant` uses (the runs `prepare`
 * asks for), so the notebook shows those DFEMs and not every stored one.
 */
export async function dfemRunDirsFor(config: Config, variant: string): Promise<string[]> {
  const dirs: string[] = [];
  for (const { request } of dfemRequests(resolveRunConfig(config, ddlMethod, variant))) {
    const run = dependencyRunOptions(config, request);
    dirs.push(planRun({ ...run, set: await loadSet(run) }).dir);
  }
  return dirs;
}
