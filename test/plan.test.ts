// A notebook's runs as a plan of tasks (lib/plan): the tasks are the runs the notebook's own study code makes,
// stages come first, the plan file refuses to run under other code, settings or stores, and a plan run as tasks
// stores exactly what the notebook would, so that the notebook then trains nothing.
import { FIXTURE_RESULTS } from './results-dir-fixture';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend } from '../lib/backend';
import { loadConfig } from '../lib/config';
import { loadDataset } from '../lib/data/dataset';
import { ddlConfig, loadDdlData } from '../lib/experiments/ddl';
import { planDdlStudy } from '../lib/experiments/ddl-study';
import { runSpndlStudy, snapshotFile, spndlConfig } from '../lib/experiments/spndl-study';
import { requestOrder } from '../lib/experiments/study-runs';
import { planRun } from '../lib/experiments/runner';
import { notebookTasks } from '../lib/plan/grid';
import { resolveTarget } from '../lib/plan/notebooks';
import { buildPlan, checkPlan, planEnv, type PlanFile, readPlan, taskAt, writePlan } from '../lib/plan/plan-file';
import { ARRAY_CHUNK, submitScript, taskScript } from '../lib/plan/slurm';
import { frameRows, loadRun, RESULTS_DIR, RUN_FILES } from '../lib/results/store';

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'dist', 'tools', 'experiment.js');
const smoke = loadConfig({ FER_PROFILE: 'smoke' });
const tmp = (name: string) => fs.mkdtempSync(path.join(os.tmpdir(), `fer-plan-${name}-`));
const made: string[] = [FIXTURE_RESULTS];
const dir = (name: string) => { const d = tmp(name); made.push(d); return d; };
after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
before(async () => { await initBackend(); });

/** The command line as a Slurm task runs it: compiled, with only the given FER_* settings. */
function cli(args: string[], env: Record<string, string>) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FER_')));
  return spawnSync(process.execPath, [CLI, ...args], {
    cwd: ROOT, encoding: 'utf8', env: { ...clean, FER_PROFILE: 'smoke', FER_THREADS: '1', ...env },
  });
}

/** sha256 of every file under a folder, by relative path. */
function hashes(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => fs.readdirSync(d, { withFileTypes: true }).forEach((e) => {
    const p = path.join(d, e.name);
    if (e.isDirectory()) walk(p);
    else out[path.relative(root, p)] = createHash('sha256').update(fs.readFileSync(p)).digest('hex');
  });
  walk(root);
  return out;
}

/** A run's tables without wall-clock and memory columns: the numbers a run computes. */
const numbers = (dirOfRun: string) => {
  const run = loadRun(dirOfRun);
  const strip = (rows: Record<string, unknown>[]) => rows.map(({ images_per_s: _i, tensors: _t, ...r }) => r);
  return {
    results: strip(frameRows(run.results)), predictions: frameRows(run.predictions), spl: run.spl ? frameRows(run.spl) : null,
  };
};

test('a plan names its notebook by number or by method; anything else is an error listing the choices', () => {
  for (const name of ['2', '02', 'spndl', ' SPNDL ']) assert.equal(resolveTarget(name).notebook, '02');
  assert.equal(resolveTarget('comparison').notebook, '06');
  assert.throws(() => resolveTarget('07'), /--plan '07': no notebook trains runs by that name; use one of: 01 \(calibration\), 02/);
  // where and how a task runs is not part of a plan's settings; the profile always is
  const env = planEnv({ FER_RESULTS_DIR: '/x', FER_THREADS: '1', FER_STUDY: '1', PATH: '/bin' });
  assert.deepEqual(env, { FER_PROFILE: 'lite', FER_STUDY: '1' });
});

test('notebook 05: stage 0, then the DFEMs that start from it, then the notebook\'s runs, one task per (run, fold)', async () => {
  const tasks = (await notebookTasks(resolveTarget('05'), smoke, RESULTS_DIR)).map((t) => t.spec);
  const groups = [...new Set(tasks.map((t) => t.group))];
  assert.deepEqual(groups, ['stages-1', 'stages-2', 'main']);
  const methods = (g: string) => [...new Set(tasks.filter((t) => t.group === g).map((t) => t.kind === 'fold' && t.method))];
  assert.deepEqual(groups.map(methods), [['ddl-pretrain'], ['ddl-dfem'], ['ddl']]);
  // the same runs, in the same order, as the notebook's study function requests
  const cfg = ddlConfig(smoke);
  const set = await loadDdlData(cfg);
  const expected = requestOrder(planDdlStudy(cfg, set)).map((r) => planRun(r.run).runId);
  const main = tasks.filter((t) => t.group === 'main');
  assert.deepEqual([...new Set(main.map((t) => t.kind === 'fold' && t.runId))], expected);
  assert.deepEqual(main.map((t) => t.kind === 'fold' && t.fold), expected.flatMap(() => [0, 1]));
});

test('notebook 04: the HNG generator is a stage task of its own; FER_STUDY adds the runs npm start leaves out', async () => {
  const tasks = (await notebookTasks(resolveTarget('idferm'), smoke, RESULTS_DIR)).map((t) => t.spec);
  const hng = tasks.filter((t) => t.kind === 'hng');
  assert.equal(hng.length, 1);
  assert.equal(hng[0].group, 'stages-1');
  assert.deepEqual(hng[0].kind === 'hng' && hng[0].variants, ['full']);
  const variants = (ts: typeof tasks) => [...new Set(ts.flatMap((t) => (t.kind === 'fold' ? [t.variant] : [])))].sort();
  assert.deepEqual(variants(tasks), ['idferm', 'softmax']);
  const withStudy = loadConfig({ FER_PROFILE: 'smoke', FER_STUDY: '1' });
  const study = (await notebookTasks(resolveTarget('04'), withStudy, RESULTS_DIR)).map((t) => t.spec);
  assert.deepEqual(variants(study), ['idferm', 'idferm-8class', 'softmax']);
  const runs = (ts: typeof tasks) => new Set(ts.flatMap((t) => (t.kind === 'fold' ? [t.runId] : []))).size;
  assert.equal(runs(study), runs(tasks) + 2, 'the 8-class run and λ = 0 (λ = 1 and slope 0.1 are the idferm run itself)');
});

test('a plan made by other code, for another profile, other settings or another store is refused, saying so', async () => {
  const target = resolveTarget('03');
  const tasks = (await notebookTasks(target, smoke, RESULTS_DIR)).map((t) => t.spec);
  const file = path.join(dir('file'), 'plan.json');
  writePlan(file, buildPlan(target, smoke, planEnv({ FER_PROFILE: 'smoke' }), tasks, RESULTS_DIR));
  const plan = readPlan(file);
  const ok = { env: { FER_PROFILE: 'smoke' }, resultsDir: RESULTS_DIR };
  checkPlan(plan, file, ok);
  assert.throws(() => checkPlan(plan, file, { ...ok, env: {} }),
    /is a plan of the smoke profile, but this environment selects the lite profile \(FER_PROFILE=unset\)/);
  assert.throws(() => checkPlan(plan, file, { ...ok, env: { FER_PROFILE: 'smoke', FER_EPOCHS: '3' } }),
    /made with FER_EPOCHS=unset, but this environment has FER_EPOCHS='3'/);
  assert.throws(() => checkPlan(plan, file, { ...ok, resultsDir: '/elsewhere' }),
    /stores its runs in .*, but this process's results store is \/elsewhere \(FER_RESULTS_DIR\)/);
  assert.throws(() => checkPlan({ ...plan, code: '0123456789abcdef' }, file, ok),
    /was made by another code version \(code 0123456789abcdef; this checkout is [0-9a-f]{16}/);
  assert.throws(() => checkPlan({ ...plan, config: { ...plan.config, epochs: 7 } }, file, ok),
    /another code version: setting epochs was 7 in the smoke profile then, 1 now/);
  const n = tasks.length;
  assert.throws(() => taskAt(plan, file, String(n)), new RegExp(`task index ${n}: .* has ${n} task\\(s\\), 0-${n - 1}`));
  assert.throws(() => taskAt(plan, file, 'two'), /task index 'two' must be a whole number/);
  fs.writeFileSync(file, JSON.stringify({ ...plan, version: 99 }));
  assert.throws(() => readPlan(file), /is a plan of format 99, this code reads format 1: it was made by another code version/);
  fs.writeFileSync(file, '{ not json');
  assert.throws(() => readPlan(file), /is not a plan file/);
});

test('Slurm scripts: one array per group, each after the one before (afterok), large groups in chunks', async (t) => {
  const out = dir('slurm');
  const res = cli(['--plan', '05', '--emit', 'slurm', '--out', out], { FER_RESULTS_DIR: dir('slurm-results') });
  assert.equal(res.status, 0, res.stderr);
  const plan = readPlan(path.join(out, 'plan.json'));
  const submit = fs.readFileSync(path.join(out, 'submit.sh'), 'utf8');
  assert.match(submit, /stages_1_0=\$\(sbatch --parsable --job-name='fer05-smoke-stages-1' --array=0-0 "\$@" '.*task.sbatch' 0\)/);
  assert.match(submit, /stages_2_0=\$\(sbatch .* --array=0-1 --dependency=afterok:\$stages_1_0 .* 1\)/);
  assert.match(submit, /main_0=\$\(sbatch .* --array=0-3 --dependency=afterok:\$stages_2_0 .* 3\)/);
  const task = fs.readFileSync(path.join(out, 'task.sbatch'), 'utf8');
  assert.match(task, /--task '.*plan.json' "\$\(\( \$1 \+ SLURM_ARRAY_TASK_ID \)\)"/);
  assert.match(task, /export FER_PROFILE='smoke'\nexport FER_RESULTS_DIR=/);
  for (const f of ['submit.sh', 'task.sbatch']) assert.equal(spawnSync('bash', ['-n', path.join(out, f)]).status, 0, `${f} parses`);

  const big: PlanFile = {
    ...plan,
    groups: [
      { name: 'stages-1', first: 0, count: 3 }, { name: 'main', first: 3, count: 2 * ARRAY_CHUNK + 500 }, { name: 'after', first: 2503, count: 1 },
    ],
  };
  const chunked = submitScript(big, '/p/plan.json', '/p');
  assert.match(chunked, /main_0=.*--array=0-999 --dependency=afterok:\$stages_1_0 .* 3\)/);
  assert.match(chunked, /main_2=.*--array=0-499 --dependency=afterok:\$stages_1_0 .* 2003\)/);
  assert.match(chunked, /after_0=.*--dependency=afterok:\$main_0:\$main_1:\$main_2 /);
  assert.match(taskScript(big, '/p/plan.json', '/p'), /#SBATCH --requeue\n/);

  // the generated script against a real controller, when this machine has one (CI starts one: .ci/slurm-cluster)
  if (spawnSync('scontrol', ['ping']).status !== 0) return t.skip('no Slurm controller answers here (scontrol ping)');
  const test = spawnSync('sbatch', ['--test-only', '--array=0-0', path.join(out, 'task.sbatch'), '0'], { encoding: 'utf8' });
  assert.equal(test.status, 0, test.stderr);
  assert.match(test.stderr, /to start at/);
});

test('a fold task never trains a stage, and a task outside the plan or under other settings is refused', () => {
  const out = dir('guard');
  const results = dir('guard-results');
  assert.equal(cli(['--plan', '05', '--emit', 'slurm', '--out', out], { FER_RESULTS_DIR: results }).status, 0);
  const planFile = path.join(out, 'plan.json');
  const main = readPlan(planFile).tasks.find((t) => t.group === 'main')!;
  const early = cli(['--task', planFile, String(main.index)], { FER_RESULTS_DIR: results });
  assert.equal(early.status, 1);
  assert.match(early.stderr, /needs the stage ddl-dfem-default-synfer-smoke-.*, which is not stored .*: a plan's tasks never train/);
  const task = (index: string, env: Record<string, string> = {}) =>
    cli(['--task', planFile, index], { FER_RESULTS_DIR: results, ...env }).stderr;
  assert.match(task('99'), /task index 99: .*plan.json has 7 task\(s\), 0-6/);
  assert.match(task('0', { FER_EPOCHS: '2' }), /made with FER_EPOCHS=unset, but this environment has FER_EPOCHS='2'/);
  assert.match(task('0', { FER_RESULTS_DIR: out }), /stores its runs in .*guard-results.*\(FER_RESULTS_DIR\)/);
  assert.match(cli(['--plan', '05', '--seed', '2'], {}).stderr, /--seed set\(s\) a single run; a plan takes the notebook's settings/);
  assert.deepEqual(fs.readdirSync(results).filter((d) => d !== 'cache'), [], 'nothing trained');
});

test('notebook 02\'s plan run as local tasks stores its runs: the notebook\'s study trains nothing; same numbers', async () => {
  const results = dir('local-results');
  const out = dir('local');
  const res = cli(['--plan', '02', '--emit', 'local', '--out', out, '--workers', '2'], { FER_RESULTS_DIR: results });
  assert.equal(res.status, 0, res.stdout + res.stderr);
  const plan = readPlan(path.join(out, 'plan.json'));
  const planned = [...new Set(plan.tasks.map((t) => t.kind === 'fold' && t.runId))].sort();
  assert.equal(plan.tasks.length, 8);

  const cfg = spndlConfig(smoke);
  const set = await loadDataset(cfg);
  const stored = hashes(results);
  const runs = await runSpndlStudy(cfg, set, { resultsDir: results });
  assert.deepEqual(Object.values(runs).map((r) => r.runId).sort(), planned, 'the ids the notebook\'s study function makes');
  assert.ok(Object.values(runs).every((r) => r.cached), 'every run reused');
  assert.deepEqual(hashes(results), stored, 'no stored file changed');

  // the notebook's own way (fold pool, one process) gives the same numbers and keeps the same pace snapshots
  const reference = await runSpndlStudy(cfg, set, { resultsDir: dir('notebook-results') });
  for (const [variant, run] of Object.entries(reference)) {
    assert.deepEqual(numbers(runs[variant].dir), numbers(run.dir), variant);
    for (const pace of [1, 4]) {
      assert.equal(fs.existsSync(snapshotFile(runs[variant].dir, 0, pace)), fs.existsSync(snapshotFile(run.dir, 0, pace)));
    }
  }

  // a requeued task finds its work stored and changes nothing
  const again = cli(['--task', path.join(out, 'plan.json'), '1'], { FER_RESULTS_DIR: results });
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /task 1: the run was stored already/);
  assert.deepEqual(hashes(results), stored);

  // many processes assembling one run at once write the run's bytes, and leave no temporary file
  const runDir = runs.spndl.dir;
  const tables = [RUN_FILES.results, RUN_FILES.predictions, RUN_FILES.spl, RUN_FILES.meta];
  for (const f of tables) fs.rmSync(path.join(runDir, f));
  const script = `const { assembleRun } = require(${JSON.stringify(path.join(ROOT, 'dist/lib/experiments/run-assembly.js'))});
    for (let i = 0; i < 10; i++) if (!assembleRun(process.argv[1])) process.exit(2);`;
  const codes = await Promise.all(Array.from({ length: 3 }, () => new Promise<number | null>((resolve) => {
    spawn(process.execPath, ['-e', script, runDir], { stdio: 'inherit' }).on('exit', resolve);
  })));
  assert.deepEqual(codes, [0, 0, 0]);
  assert.deepEqual(hashes(results), stored, 'the same bytes');
});
