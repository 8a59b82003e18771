/**
 * The plan commands of `npm run experiment`:
 *   --plan NOTEBOOK [--emit slurm|local] [--out DIR] [--workers N]
 *   --task PLAN INDEX      (what each Slurm array element runs)
 *   --status PLAN
 * A plan is a notebook's runs (from its own study code) as one task per
 * (run, fold), after the stages they share; see lib/plan/.
 * @see notebooks/02-spndl.ipynb
 */
import * as fs from 'fs';
import * as path from 'path';
import { describeBackend, initBackend } from '../lib/backend';
import { loadConfig } from '../lib/config';
import { workerCount } from '../lib/experiments/fold-pool';
import { showTable } from '../lib/notebook/display';
import { PROJECT_ROOT } from '../lib/paths';
import { checkCompiled } from '../lib/plan/code-version';
import { notebookTasks } from '../lib/plan/grid';
import { runPlanLocally } from '../lib/plan/local';
import { resolveTarget } from '../lib/plan/notebooks';
import { buildPlan, checkPlanCode, planEnv, readPlan, writePlan } from '../lib/plan/plan-file';
import { assembleLanded, planStatus } from '../lib/plan/status';
import { submitScript, taskScript } from '../lib/plan/slurm';
import { runPlanTask } from '../lib/plan/task';
import { RESULTS_DIR } from '../lib/results/store';

export const PLAN_USAGE = [
  '  --plan NOTEBOOK   plan a notebook\'s runs (01-06, or calibration, spndl, gndl, idferm, ddl, comparison):',
  '                    one task per (run, fold), after the stages they share; FER_* settings apply',
  '                    (FER_PROFILE; FER_STUDY=1 adds the runs outside npm start); without --emit, lists them',
  '  --emit slurm      write DIR/plan.json, DIR/task.sbatch (a job array) and DIR/submit.sh (submits it)',
  '  --emit local      write DIR/plan.json and run its tasks here, --workers at a time',
  '  --out DIR         where the plan goes (default data/plans/<notebook>-<name>-<profile>)',
  '  --workers N       tasks at once with --emit local (default: the fold pool\'s, FER_WORKERS)',
  '  --task PLAN I     run task I of a plan file (what each job of the array runs)',
  '  --status PLAN     check a plan file against this checkout and show what is stored',
].join('\n');

export interface PlanArgs {
  plan?: string;
  emit?: string;
  out?: string;
  workers?: string;
  profile?: string;
}

export async function planCommand(args: PlanArgs): Promise<void> {
  const env = args.profile ? { ...process.env, FER_PROFILE: args.profile } : process.env;
  const config = loadConfig(env);
  if (config.force) {
    throw new Error('FER_FORCE=1 does not apply to a plan: its tasks resume and keep stored folds; remove the runs ' +
      'to retrain ' +
      'from the results store, or plan into another FER_RESULTS_DIR');
  }
  if (args.emit !== undefined && !['slurm', 'local'].includes(args.emit)) {
    throw new Error(`--emit '${args.emit}' must be slurm or local`);
  }
  const workers = args.workers === undefined ? workerCount(config) : Number(args.workers);
  if (!(Number.isInteger(workers) && workers >= 1)) throw new Error(`--workers '${args.workers}' must be a count >= 1`);
  const target = resolveTarget(args.plan!);
  const tasks = (await notebookTasks(target, config, RESULTS_DIR)).map((t) => t.spec);
  const plan = buildPlan(target, config, planEnv(env), tasks, RESULTS_DIR);
  const study = config.study ? ', with the study runs' : '';
  const caption = `notebook ${target.notebook} (${target.name}), ${config.profile} profile${study}: ` +
    `${tasks.length} task(s) into ${RESULTS_DIR}`;
  showTable(plan.tasks.map((t) => ({
    task: t.index, group: t.group, ...(t.kind === 'fold'
      ? { run: t.runId, fold: `${t.fold + 1}/${t.folds}`, name: t.name }
      : { run: t.dirs.join(', '), fold: '', name: t.name }),
  })), { caption });
  if (!args.emit) return;
  const name = `${target.notebook}-${target.name}-${config.profile}`;
  const out = path.resolve(args.out ?? path.join(PROJECT_ROOT, 'data', 'plans', name));
  const planFile = path.join(out, 'plan.json');
  writePlan(planFile, plan);
  console.log(`plan: ${planFile}`);
  if (args.emit === 'local') return runPlanLocally(plan, planFile, { workers, logDir: path.join(out, 'logs') });
  fs.writeFileSync(path.join(out, 'task.sbatch'), taskScript(plan, planFile, out), { mode: 0o755 });
  fs.writeFileSync(path.join(out, 'submit.sh'), submitScript(plan, planFile, out), { mode: 0o755 });
  console.log(`job array: ${path.join(out, 'task.sbatch')}`);
  console.log(`submit with: ${path.join(out, 'submit.sh')} [sbatch options, e.g. --partition=...]`);
}

/** Checks a plan against this checkout (its code, the compiled library), finishes landed runs, shows what is stored. */
export function statusCommand(file: string): void {
  const plan = readPlan(file);
  checkPlanCode(plan, file);
  checkCompiled();
  const assembled = assembleLanded(plan);
  if (assembled) console.log(`assembled ${assembled} run(s) whose folds had all landed`);
  const rows = planStatus(plan);
  showTable(rows, { caption: `${file}: notebook ${plan.notebook} (${plan.target}), ${plan.profile} profile` });
  const left = rows.reduce((a, r) => a + r.tasks - r.done, 0);
  console.log(left ? `${left} of ${plan.tasks.length} task(s) not done yet` : `every task of ${file} is done`);
}

/** Runs one task of a plan file (a Slurm array element, or a local worker). */
export async function taskCommand(file: string, index: string): Promise<void> {
  console.log(`backend: ${describeBackend(await initBackend())}`);
  await runPlanTask(file, index);
}

/** Single-run flags would go unrecorded in a plan, which records FER_* variables only: an error that says so. */
export function rejectRunFlags(flags: Record<string, unknown>): void {
  const given = Object.entries(flags).filter(([, v]) => v !== undefined).map(([k]) => `--${k}`);
  if (given.length) {
    throw new Error(`${given.join(', ')} set(s) a single run; a plan takes the notebook's settings from FER_* ` +
      'variables (e.g. FER_SEED=2), ' +
      'which its tasks then use too');
  }
}
