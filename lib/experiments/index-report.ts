/**
 * The results index: every complete stored run of a profile placed beside
 * the paper table rows it is linked to (compareWithPaper), as rows and as a
 * markdown page (figures/RESULTS.md, written by `npm run figures`); then
 * notebook 06's controlled comparison, which no paper has numbers for. It
 * checks stored runs against the method registry, so it sits with the
 * experiments rather than with the results store.
 * @see notebooks/07-figures.ipynb
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Config } from '../config';
import { compareWithPaper, linkedVariants, paperTable, OurResult } from '../results/paper-tables';
import { finalAccuracies, isComplete, listRuns, loadRun, RESULTS_DIR, RUN_FILES, type RunInfo, type StoredRun } from '../results/store';
import { mean as meanOf, sampleStd } from '../analysis/stats';
import { getMethod } from './methods';
import { resolveOptions } from './settings';
import type { RunConfig } from '../train/run-types';

export type IndexRow = {
  paper: string;
  table: string;
  'paper row': string;
  'paper dataset': string;
  'paper value': number | null;
  /** test accuracy after the last epoch, mean ± std over folds (%) */
  ours: string;
  'our dataset': string;
  profile: string;
  'run id': string;
};

/**
 * One row per (current run of config.profile, linked paper row and column),
 * for the accuracy tables; ours is the last epoch's test accuracy over folds,
 * our dataset the exact data the run trained on.
 */
export function resultsIndex(config: Pick<Config, 'profile' | 'calibrationSeed'>,
  opts: { resultsDir?: string } = {}): IndexRow[] {
  const linked = linkedVariants();
  const rows: IndexRow[] = [];
  const root = opts.resultsDir ?? RESULTS_DIR;
  // notebook 06's own runs share the methods' variants but not the papers' protocols: listed in its own section
  // only; notebook 01's calibration runs (their own seed, clean or confound-free faces) stand for no paper row
  const notebook06 = comparisonOwnRunIds(config.profile, root);
  for (const { info, run } of currentRuns(config.profile, root, notebook06)) {
    if (info.seed === config.calibrationSeed) continue;
    const link = linked.find((l) => l.method === info.method && l.variant === info.variant)!;
    const accs = finalAccuracies(run).map((a) => 100 * a.test_acc);
    if (!accs.length) continue;
    const mean = meanOf(accs), std = accs.length > 1 ? sampleStd(accs) : null;
    const ours: OurResult = { method: info.method, variant: info.variant, mean, std, dataset: run.config.data?.name ?? info.dataset, profile: info.profile };
    for (const id of link.tables) {
      if (paperTable(id).metric !== 'accuracy-pct') continue; // identity errors, comparison counts: not a run's accuracy
      for (const c of compareWithPaper(id, [ours])) {
        if (c.paperRow === null) continue;
        rows.push({
          paper: paperTable(id).paper.toUpperCase(), table: `${paperTable(id).label} (${id})`, 'paper row': c.paperRow, 'paper dataset': c.paperDataset ?? '',
          'paper value': c.paperValue, ours: c.ours, 'our dataset': c.dataset, profile: c.profile, 'run id': info.runId,
        });
      }
    }
  }
  rows.sort((a, b) => a.table.localeCompare(b.table) || a['paper row'].localeCompare(b['paper row']) || a['run id'].localeCompare(b['run id']));
  return [...rows, ...comparisonIndexRows(config.profile, root)];
}

/**
 * The complete runs of a profile that stand for a paper row: linked to a
 * table, not notebook 06's, and of the variant as defined now. Where several
 * runs share method, variant, dataset size and seed (a working data/ folder
 * that kept runs of earlier parameter values or data versions), only the most
 * recently finished one is listed: the one the notebooks would show today.
 */
function currentRuns(profile: string, root: string, exclude: Set<string>): { info: RunInfo; run: StoredRun }[] {
  const linked = linkedVariants();
  const latest = new Map<string, { info: RunInfo; run: StoredRun; finished: number }>();
  for (const info of listRuns({ root })) {
    if (!info.complete || info.profile !== profile || exclude.has(info.runId)) continue;
    if (!linked.some((l) => l.method === info.method && l.variant === info.variant)) continue;
    const run = loadRun(info.dir);
    if (!runsVariantAsDefined(run.config)) continue; // a sweep point (e.g. IDFERM's λ) or a run of older code: not the paper row
    // the data's size, not its name: the name also hashes the generator's code version
    const data = run.config.data;
    const key = [info.method, info.variant, info.dataset, data?.samples, data?.size, data?.channels, info.seed].join('|');
    const finished = fs.statSync(path.join(info.dir, RUN_FILES.results)).mtimeMs;
    const seen = latest.get(key);
    if (!seen || finished > seen.finished || (finished === seen.finished && info.runId > seen.info.runId)) latest.set(key, { info, run, finished });
  }
  return [...latest.values()];
}

/** Whether a run used exactly its variant's current options (no caller overrides, no options since added or renamed). */
export function runsVariantAsDefined(config: Pick<RunConfig, 'method' | 'variant' | 'options'>): boolean {
  const method = getMethod(config.method);
  if (!method.variants[config.variant]) return false; // a variant since removed
  const defined = resolveOptions(method, config.variant);
  const keys = new Set([...Object.keys(defined), ...Object.keys(config.options)]);
  return [...keys].every((k) => defined[k] === config.options[k]);
}

/** The runs of notebook 06's controlled comparison for a profile (written by runComparison). */
export const comparisonIndexFile = (profile: string, resultsDir = RESULTS_DIR) => path.join(resultsDir, 'comparison', `index-${profile}.json`);

/** The runs of notebook 06's controlled benchmark for a profile (written by runBenchmark). */
export const comparisonBenchFile = (profile: string, resultsDir = RESULTS_DIR) => path.join(resultsDir, 'comparison', `bench-${profile}.json`);

/**
 * Ids of the runs notebook 06 made for a profile (main comparison and benchmark), less those its index marks
 * as the paper notebooks' own runs (same configuration and id): those also stand for the papers' rows.
 */
function comparisonOwnRunIds(profile: string, resultsDir: string): Set<string> {
  const ids = new Set<string>(), papers = new Set<string>();
  for (const file of [comparisonIndexFile(profile, resultsDir), comparisonBenchFile(profile, resultsDir)]) {
    if (!fs.existsSync(file)) continue;
    const { runs } = JSON.parse(fs.readFileSync(file, 'utf8')) as { runs: (string | { runId: string; paperRun?: boolean })[] };
    for (const r of runs) {
      if (typeof r === 'string') ids.add(r);
      else (r.paperRun ? papers : ids).add(r.runId);
    }
  }
  for (const id of papers) ids.delete(id);
  return ids;
}

/** Notebook 06's comparison, one row per method: no paper has a number for it (none ran this protocol). */
function comparisonIndexRows(profile: string, resultsDir: string): IndexRow[] {
  const file = comparisonIndexFile(profile, resultsDir);
  if (!fs.existsSync(file)) return [];
  const index = JSON.parse(fs.readFileSync(file, 'utf8')) as { dataset: string; runs: { label: string; runId: string; dir: string }[] };
  return index.runs.filter((r) => isComplete(path.join(resultsDir, r.dir))).map((r) => {
    const run = loadRun(path.join(resultsDir, r.dir));
    const accs = finalAccuracies(run).map((a) => 100 * a.test_acc);
    return {
      paper: 'ALL FOUR', table: 'Notebook 06: same data, folds, epochs and seed (comparison.main)', 'paper row': r.label, 'paper dataset': '',
      'paper value': null, ours: `${meanOf(accs).toFixed(2)} ± ${sampleStd(accs).toFixed(2)}`, 'our dataset': index.dataset, profile, 'run id': r.runId,
    };
  });
}

/** The index as a markdown page. */
export function resultsMarkdown(rows: IndexRow[], profile: string): string {
  const cols = Object.keys(rows[0] ?? { paper: '', table: '', 'paper row': '', 'paper dataset': '', 'paper value': '', ours: '', 'our dataset': '', profile: '', 'run id': '' }) as (keyof IndexRow)[];
  const cell = (v: unknown) => (v === null || v === undefined ? '–' : String(v).replace(/\|/g, '\\|'));
  return [
    `# Results index (${profile} profile)`, '',
    'Our stored runs beside the paper rows they reproduce. Ours: test accuracy (%) after the last epoch, mean ± std over folds.',
    'Runs on synthetic data are not the paper\'s experiment; compare shapes, not numbers. Regenerate with `npm run figures`.', '',
    `| ${cols.join(' | ')} |`, `| ${cols.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${cols.map((c) => cell(r[c])).join(' | ')} |`),
    ...(rows.length ? [] : ['', '_No complete stored run of this profile is linked to a paper table yet._']), '',
  ].join('\n');
}
