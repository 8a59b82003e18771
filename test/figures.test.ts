import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend } from '../lib/backend';
import { loadConfig } from '../lib/config';
import { gndlConfig } from '../lib/experiments/gndl-study';
import { runExperiment } from '../lib/experiments/runner';
import { regenerateFigures } from '../lib/figures/regenerate';
import { PROJECT_ROOT } from '../lib/paths';
import { comparisonIndexFile, resultsIndex, resultsMarkdown, runsVariantAsDefined } from '../lib/experiments/index-report';
import { paperTable } from '../lib/results/paper-tables';
import { tinySet } from './tiny-set';

const set = tinySet();
// smoke GNDL study: variants baseline and gndl; only 'gndl' is stored below
const config = loadConfig({ FER_PROFILE: 'smoke' }, { gndlEpochs: 1, gndlFolds: 2, gndlBatchSize: 8, gndlVariants: 'baseline,gndl', gndlLambdas: '' });
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fer-figures-'));
const results = path.join(root, 'results'), figures = path.join(root, 'figures');
let runId = '';

before(async () => {
  await initBackend();
  runId = (await runExperiment({ config: gndlConfig(config), method: 'gndl', variant: 'gndl', set, resultsDir: results, progress: null })).runId;
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

test('regenerateFigures draws the figures whose runs are stored and lists the others as missing', async () => {
  const rows = await regenerateFigures(config, { resultsDir: results, figuresDir: figures, papers: ['gndl'], sets: { gndl: set } });
  const by = Object.fromEntries(rows.map((r) => [r.figure, r]));
  assert.deepEqual(Object.keys(by).sort(), ['gndl/curves', 'gndl/fig6-confusion', 'gndl/fig7-lambda', 'gndl/fig8-deviations', 'gndl/fig9-hard-samples']);
  for (const name of ['gndl/curves', 'gndl/fig6-confusion', 'gndl/fig8-deviations']) {
    assert.equal(by[name].source, runId);
    assert.equal(path.resolve(PROJECT_ROOT, by[name].file), path.join(figures, `${name}.svg`));
    assert.ok(fs.statSync(path.join(figures, `${name}.png`)).size > 0, name);
  }
  assert.equal(by['gndl/fig6-confusion'].paperFigure, 'GNDL Fig. 6');
  // Fig. 7 compares every variant of the study; the baseline run is not stored
  assert.match(by['gndl/fig7-lambda'].file, /^missing: run notebook 03 first \(no complete run baseline-plain-/);
  assert.ok(!fs.existsSync(path.join(figures, 'gndl/fig7-lambda.svg')));
});

test('a figure does not wait for the runs only `npm run study` trains: Fig. 7 is drawn from the main runs, and figures that need study runs say so', async () => {
  const withSweep = { ...config, gndlVariants: 'gndl', gndlLambdas: '1' };
  const by = Object.fromEntries((await regenerateFigures(withSweep, { resultsDir: results, figuresDir: figures, papers: ['gndl'], sets: { gndl: set } })).map((r) => [r.figure, r]));
  assert.equal(path.resolve(PROJECT_ROOT, by['gndl/fig7-lambda'].file), path.join(figures, 'gndl/fig7-lambda.svg'), 'the λ = 1 run is study-only');
  const idferm = { ...config, idfermVariants: 'idferm', idfermLambdas: '0', idfermSlopes: '' };
  const sweep = (await regenerateFigures(idferm, { resultsDir: results, figuresDir: figures, papers: ['idferm'], sets: { idferm: set } })).find((r) => r.figure === 'idferm/fig11-lambda')!;
  assert.match(sweep.file, /^missing: run `npm run study` .*first \(no complete run idferm-idferm-/);
});

test('resultsIndex joins a stored run with the paper table rows it is linked to', () => {
  const rows = resultsIndex(config, { resultsDir: results });
  assert.ok(rows.length > 0);
  assert.ok(rows.every((r) => r['run id'] === runId && r.profile === 'smoke' && r['our dataset'] === set.name));
  const t1 = rows.filter((r) => r.table === 'Table 1 (gndl.table1)' && r['paper row'] === 'GNDL');
  const table = paperTable('gndl.table1');
  const row = table.rows.find((r) => r.label === 'GNDL')!;
  // synthetic data: one row per dataset column the paper row has a number for
  assert.deepEqual(t1.map((r) => r['paper value']).sort(), table.columns.map((c) => row.values[c.key]).sort());
  assert.match(t1[0].ours, /^\d+\.\d\d ± \d+\.\d\d$/);
  assert.equal(resultsIndex({ ...config, profile: 'lite' }, { resultsDir: results }).length, 0, 'other profiles are not indexed');
  const md = resultsMarkdown(rows, 'smoke');
  assert.ok(md.includes(`| ${runId} |`));
  assert.equal(md.split('\n').filter((l) => l.startsWith('| GNDL')).length, rows.length);
});

test('calibration runs and notebook 06\'s own runs stand for no paper row; 06\'s reuse of a paper run does', () => {
  const paperRows = (c = config) => resultsIndex(c, { resultsDir: results }).filter((r) => r.paper !== 'ALL FOUR');
  assert.ok(paperRows().length > 0);
  assert.equal(paperRows({ ...config, calibrationSeed: config.seed, seed: config.seed + 1 }).length, 0,
    'a run at the calibration seed is notebook 01\'s');
  const file = comparisonIndexFile(config.profile, results);
  const record = (paperRun: boolean) => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify({ dataset: set.name, runs: [{ method: 'gndl', label: 'GNDL', runId, dir: `gndl/${runId}`, paperRun }] }));
  };
  try {
    record(false);
    assert.equal(paperRows().length, 0, 'a run only the comparison made (its own protocol)');
    record(true);
    assert.ok(paperRows().length > 0 && paperRows().every((r) => r['run id'] === runId), 'the paper notebook\'s own run, reused');
  } finally {
    fs.rmSync(file, { force: true });
  }
});

test('only runs of a variant as defined stand for its paper row: sweep points and runs of older options do not', () => {
  const options = { ...loadRunOptions() };
  assert.ok(runsVariantAsDefined({ method: 'gndl', variant: 'gndl', options }));
  assert.ok(!runsVariantAsDefined({ method: 'gndl', variant: 'gndl', options: { ...options, lambda: 1 } }), 'a λ sweep point');
  assert.ok(!runsVariantAsDefined({ method: 'gndl', variant: 'gndl', options: { ...options, removedOption: true } }), 'an option the code no longer has');
  const { pairs: _dropped, ...older } = options;
  assert.ok(!runsVariantAsDefined({ method: 'gndl', variant: 'gndl', options: older }), 'an option added since');
  assert.ok(!runsVariantAsDefined({ method: 'gndl', variant: 'no-such-variant', options }));
});

test('of runs with the same variant, dataset size and seed, only the most recently finished one is indexed', () => {
  const older = path.join(results, 'gndl', `${runId}-older`);
  fs.cpSync(path.join(results, 'gndl', runId), older, { recursive: true });
  try {
    const csv = path.join(older, 'results.csv');
    const past = new Date(Date.now() - 3600_000);
    fs.utimesSync(csv, past, past);
    assert.ok(resultsIndex(config, { resultsDir: results }).every((r) => r['run id'] === runId), 'the older copy is hidden');
    const now = new Date(Date.now() + 3600_000);
    fs.utimesSync(csv, now, now);
    assert.ok(resultsIndex(config, { resultsDir: results }).every((r) => r['run id'] === `${runId}-older`), 'the newer copy replaces it');
  } finally {
    fs.rmSync(older, { recursive: true, force: true });
  }
});

function loadRunOptions() {
  return JSON.parse(fs.readFileSync(path.join(results, 'gndl', runId, 'config.json'), 'utf8')).options as Record<string, string | number | boolean>;
}
