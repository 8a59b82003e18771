/**
 * One task of a plan, as a cluster job (or a local worker) runs it: check
 * that the plan holds here, derive the notebook's grid again from its own
 * study code, check the task is still the same, and train it into the
 * shared results store. A fold resumes from its checkpoint when the job is
 * requeued; the task that lands a run's last fold assembles the run.
 * Stages are never trained by a fold task: they must be stored already.
 * @see notebooks/02-spndl.ipynb
 */
import { disposeHngStage, hngStage } from '../experiments/idferm-hng/stage';
import { trainRunFold } from '../experiments/runner';
import { canonicalJson, RESULTS_DIR } from '../results/store';
import { describeTask, notebookTasks } from './grid';
import { resolveTarget } from './notebooks';
import { checkCompiled } from './code-version';
import { checkPlan, readPlan, taskAt } from './plan-file';

export async function runPlanTask(file: string, index: string, log = (line: string) => console.log(line)): Promise<void> {
  const plan = readPlan(file);
  checkPlan(plan, file, { resultsDir: RESULTS_DIR });
  checkCompiled();
  const { index: i, ...spec } = taskAt(plan, file, index);
  const tasks = await notebookTasks(resolveTarget(plan.notebook), plan.config, plan.resultsDir);
  const live = tasks[i];
  if (!live || tasks.length !== plan.tasks.length || canonicalJson(live.spec) !== canonicalJson(spec)) {
    throw new Error(`${file} task ${i} is ${describeTask(spec)}, but notebook ${plan.notebook} now plans ` +
      `${live ? describeTask(live.spec) : 'no such task'} there (${tasks.length} tasks, the plan has ${plan.tasks.length}): ` +
      'its data or code changed since it was made; emit the plan again');
  }
  const started = Date.now();
  const seconds = () => ((Date.now() - started) / 1000).toFixed(1);
  log(`task ${i}: ${describeTask(spec)}`);
  if (live.hng) {
    for (const h of live.hng) disposeHngStage(await hngStage(h.config, h.variant));
    log(`task ${i}: HNG ${live.hng.map((h) => h.variant).join(', ')} stored in ${seconds()} s`);
    return;
  }
  if (spec.kind !== 'fold' || !live.run) throw new Error(`${file} task ${i}: a ${spec.kind} task without its run`);
  const r = await trainRunFold({
    ...live.run.run,
    onEpoch: (row) => log(`task ${i}: fold ${row.fold + 1} epoch ${row.epoch} · loss ${row.train_loss.toFixed(4)} · ` +
      `test acc ${row.test_acc.toFixed(3)}`),
  }, spec.fold);
  const what = {
    stored: 'the run was stored already', kept: 'the fold was stored already', trained: `trained in ${seconds()} s`,
  };
  log(`task ${i}: ${what[r.outcome]}; run ${r.complete ? `complete (${r.dir})` : 'waits for its other folds'}`);
}
