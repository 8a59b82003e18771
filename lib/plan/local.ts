/**
 * A plan run on this machine, for users without a cluster: the same tasks a
 * Slurm array runs, each the same command in a process of its own (with the
 * plan's settings and one wasm thread), `workers` at a time, group after
 * group as the arrays' dependencies order them. A failed task stops the
 * plan after the running ones end, naming the task and its log.
 * @see notebooks/02-spndl.ipynb
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { PROJECT_ROOT } from '../paths';
import { describeTask } from './grid';
import type { PlanFile, PlanTask } from './plan-file';

/** The compiled command line the tasks run (tests under tsx run it too: the task must run as a cluster job does). */
export function compiledCli(): string {
  const cli = path.join(PROJECT_ROOT, 'dist', 'tools', 'experiment.js');
  if (!fs.existsSync(cli)) throw new Error(`${cli} is missing: run 'npm run build' (plan tasks run the compiled code)`);
  return cli;
}

/** The environment of a task: the plan's FER_* settings only, its results store, one thread. */
export function taskEnv(plan: PlanFile): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FER_')));
  return { ...env, ...plan.env, FER_RESULTS_DIR: plan.resultsDir, FER_THREADS: '1' };
}

function runTask(plan: PlanFile, planFile: string, task: PlanTask, logFile: string): Promise<number> {
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const out = fs.openSync(logFile, 'a');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [compiledCli(), '--task', planFile, String(task.index)], {
      cwd: PROJECT_ROOT, env: taskEnv(plan), stdio: ['ignore', out, out],
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      fs.closeSync(out);
      resolve(code ?? (signal ? 128 : 1));
    });
  });
}

const lastLines = (file: string, n: number) => fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');

/** Runs every task of the plan, `workers` at a time; logs go to <logDir>/task-<index>.log. */
export async function runPlanLocally(plan: PlanFile, planFile: string,
  opts: { workers: number; logDir: string; log?: (line: string) => void }): Promise<void> {
  const log = opts.log ?? console.log;
  if (!(Number.isInteger(opts.workers) && opts.workers >= 1)) throw new Error(`--workers ${opts.workers}: not a count`);
  const started = Date.now();
  for (const group of plan.groups) {
    const queue = plan.tasks.slice(group.first, group.first + group.count);
    log(`${group.name}: ${queue.length} task(s), ${Math.min(opts.workers, queue.length)} at a time`);
    const failures: string[] = [];
    const worker = async () => {
      for (let task = queue.shift(); task && !failures.length; task = queue.shift()) {
        const file = path.join(opts.logDir, `task-${task.index}.log`);
        const code = await runTask(plan, planFile, task, file);
        if (code !== 0) {
          const why = `task ${task.index} (${describeTask(task)}) failed with exit code ${code}`;
          failures.push(`${why}; its log ${file} ends:\n${lastLines(file, 12)}`);
        }
        else log(`  ${lastLines(file, 1)}`);
      }
    };
    await Promise.all(Array.from({ length: Math.min(opts.workers, group.count) }, worker));
    if (failures.length) throw new Error(`${planFile}: ${failures.join('\n')}\n(later groups were not started)`);
  }
  log(`all ${plan.tasks.length} task(s) of ${planFile} done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
