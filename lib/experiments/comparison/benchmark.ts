/**
 * Notebook 06's controlled benchmark: a smaller comparison repeated while one
 * SynFER factor grows (identity confound, pose range, illumination), the
 * others at the main comparison's values, and how much accuracy each method
 * loses beside the baseline (the shared paired test, ../../analysis/paired.ts).
 * @see notebooks/06-comparison.ipynb
 */
import type { Config } from '../../config';
import { writeFileAtomic } from '../../core/atomic-write';
import { formatP, formatPaired, pairedTest } from '../../analysis/paired';
import { meanStd } from '../../analysis/stats';
import { finalAccuracies, isComplete, pooledAccuracy, RESULTS_DIR, type Row } from '../../results/store';
import { comparisonBenchFile } from '../index-report';
import { parseNumberList } from '../settings';
import { pm } from './format';
import type { StudyRun } from '../study-runs';
import {
  benchScale, comparisonRuns, entry, parseMethods, planComparison, planMainComparison, referencePoint, runPlanned,
  type Comparison, type ComparisonPlan, type DataPoint,
} from './plan';

export const FACTORS = ['confound', 'pose', 'light'] as const;
export type Factor = (typeof FACTORS)[number];

/** Every (factor, level) of the benchmark with its data point: one factor moves, the others stay at the reference. */
export function benchmarkPoints(config: Config): { factor: Factor; level: number; point: DataPoint }[] {
  const ref = referencePoint(config);
  const lists: Record<Factor, string> = {
    confound: config.comparisonConfoundLevels, pose: config.comparisonPoseLevels, light: config.comparisonLightLevels };
  const setting: Record<Factor, string> = {
    confound: 'comparisonConfoundLevels', pose: 'comparisonPoseLevels', light: 'comparisonLightLevels' };
  return FACTORS.flatMap((factor) => parseNumberList(lists[factor], setting[factor])
    .map((level) => ({ factor, level, point: { ...ref, [factor]: level } })));
}

export const pointKey = (p: DataPoint) => `${p.confound}|${p.pose}|${p.light}`;

export interface Benchmark {
  points: { factor: Factor; level: number; point: DataPoint }[];
  /** one comparison per distinct data point */
  comparisons: Map<string, Comparison>;
}

/** Plans the benchmark's comparisons (one per distinct data point; no training). */
export async function planBenchmark(
  config: Config, opts: { resultsDir?: string } = {}
): Promise<{ points: Benchmark['points']; plans: Map<string, ComparisonPlan> }> {
  const points = benchmarkPoints(config);
  const methods = parseMethods(config.comparisonBenchMethods, 'comparisonBenchMethods');
  const plans = new Map<string, ComparisonPlan>();
  for (const { point } of points) {
    if (!plans.has(pointKey(point))) plans.set(pointKey(point), await planComparison(config, methods, benchScale(config), point, opts));
  }
  return { points, plans };
}

/** Runs (or reuses) the benchmark; outside the study (config.study) only loads it, and gives null unless every run is stored. */
export async function runBenchmark(
  config: Config, opts: { resultsDir?: string; log?: (line: string) => void } = {}
): Promise<Benchmark | null> {
  const { points, plans } = await planBenchmark(config, opts);
  if (!config.study && ![...plans.values()].every((plan) => plan.methods.every((p) => isComplete(p.dir)))) return null;
  const comparisons = new Map<string, Comparison>();
  let i = 0;
  for (const [key, plan] of plans) {
    i++;
    const label = `level ${i}/${plans.size} (confound ${plan.point.confound}, pose ${plan.point.pose}, light ${plan.point.light})`;
    comparisons.set(key, await runPlanned(plan, { ...opts, label }));
  }
  const runIds = [...plans.values()].flatMap((plan) => plan.methods.map((p) => p.runId));
  writeFileAtomic(comparisonBenchFile(config.profile, opts.resultsDir ?? RESULTS_DIR), JSON.stringify({ runs: runIds }, null, 2) + '\n');
  return { points, comparisons };
}

/** Whether a method's pooled test accuracy is more than two binomial standard errors above chance. */
export function aboveChance(c: Comparison, method: string): boolean {
  const chance = 1 / c.set.classes.length, n = c.set.labels.length;
  return pooledAccuracy(c.runs[method]).acc > chance + 2 * Math.sqrt((chance * (1 - chance)) / n);
}

/** Accuracy per (factor, level, method): mean and sd over folds (fractions), for the table and the figure. */
export function benchmarkRows(
  bench: Benchmark,
): { factor: Factor; level: number; method: string; acc_mean: number; acc_std: number; folds: number; run: string }[] {
  return bench.points.flatMap(({ factor, level, point }) => {
    const cmp = bench.comparisons.get(pointKey(point))!;
    return cmp.methods.map((p) => {
      const accs = finalAccuracies(cmp.runs[p.method]).map((a) => a.test_acc);
      const { mean, std } = meanStd(accs);
      return { factor, level, method: entry(p.method).label, acc_mean: mean, acc_std: std, folds: accs.length, run: p.runId };
    });
  });
}

/**
 * Per factor and method: accuracy lost from the factor's lowest to its
 * highest level, and whether the method loses less than the baseline,
 * judged per fold with the shared paired test.
 */
export function robustnessRows(bench: Benchmark): Row[] {
  const out: Row[] = [];
  for (const factor of FACTORS) {
    const levels = bench.points.filter((p) => p.factor === factor).sort((a, b) => a.level - b.level);
    if (levels.length < 2) continue;
    const [lo, hi] = [levels[0], levels[levels.length - 1]];
    const cmpLo = bench.comparisons.get(pointKey(lo.point))!, cmpHi = bench.comparisons.get(pointKey(hi.point))!;
    const drops = (method: string) => {
      const a = new Map(finalAccuracies(cmpLo.runs[method]).map((x) => [x.fold, 100 * x.test_acc]));
      return finalAccuracies(cmpHi.runs[method]).filter((x) => a.has(x.fold)).map((x) => a.get(x.fold)! - 100 * x.test_acc);
    };
    const base = drops('baseline');
    // a method at chance at the lowest level has nothing to lose: its "robustness" would be noise
    const learnt = (method: string) => aboveChance(cmpLo, method);
    for (const p of cmpLo.methods) {
      const d = drops(p.method);
      const isBase = p.method === 'baseline';
      const gain = pairedTest(base.map((b, i) => b - d[i])); // > 0: the method loses less than the baseline
      out.push({
        factor, levels: `${lo.level} → ${hi.level}`, method: entry(p.method).label, 'accuracy lost (pp)': pm(d),
        'loses less than baseline': isBase ? '' : formatPaired(gain),
        p: isBase ? '' : formatP(gain.p),
        'more robust': isBase ? '' : learnt(p.method) && learnt('baseline') ? gain.verdict
          : 'unclear (at chance at the lowest level)',
      });
    }
  }
  return out;
}

/** Notebook 06's runs: the main comparison's (in npm start) and, with config.study, the benchmark's. */
export async function planComparisonStudy(config: Config, opts: { resultsDir?: string } = {}): Promise<StudyRun[]> {
  const main = comparisonRuns(await planMainComparison(config, opts), true, opts);
  const { plans } = await planBenchmark(config, opts);
  const bench = [...plans.values()].flatMap((plan) => comparisonRuns(plan, config.study, {
    ...opts, label: `confound ${plan.point.confound}, pose ${plan.point.pose}, light ${plan.point.light}`,
  }));
  return [...main, ...bench];
}
