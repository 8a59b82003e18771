/**
 * The plan file: a notebook's grid of tasks as JSON, with everything a task
 * needs to check that it still means what it meant when it was planned: the
 * FER_* settings and the resolved configuration, the results store, the code
 * version, and every task's run id and fold. A task derives the grid again
 * from the notebook's own study code and refuses to run when it differs.
 * @see notebooks/02-spndl.ipynb
 */
import * as fs from 'fs';
import * as path from 'path';
import { type Config, loadConfig, profileFrom } from '../config';
import { writeFileAtomic } from '../core/atomic-write';
import { canonicalJson } from '../results/store';
import { codeVersion } from './code-version';
import type { TaskSpec } from './grid';
import type { NotebookTarget } from './notebooks';

export const PLAN_FORMAT = 'fer-experiment-plan';
export const PLAN_VERSION = 1;

/** FER_* variables that say where and how a task runs, not what it computes: left out of a plan's settings. */
export const EXECUTION_VARIABLES = ['FER_RESULTS_DIR', 'FER_THREADS'];

export type PlanTask = TaskSpec & { index: number };

export interface PlanGroup {
  /** 'stages-1', 'stages-2', ... then 'main'; each group waits for the one before */
  name: string;
  first: number;
  count: number;
}

export interface PlanFile {
  format: typeof PLAN_FORMAT;
  version: number;
  notebook: string;
  target: string;
  profile: string;
  /** the FER_* settings it was made with (EXECUTION_VARIABLES aside): its tasks train with exactly these */
  env: Record<string, string>;
  config: Config;
  resultsDir: string;
  code: string;
  created: string;
  groups: PlanGroup[];
  tasks: PlanTask[];
}

/** The FER_* settings of an environment that a plan records, sorted by name, the profile always named. */
export function planEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const named = Object.keys(env).filter((k) => k.startsWith('FER_') && !EXECUTION_VARIABLES.includes(k));
  const names = [...new Set([...named, 'FER_PROFILE'])].sort();
  return Object.fromEntries(names.map((k) => [k, k === 'FER_PROFILE' ? profileFrom(env) : env[k]!]));
}

export function buildPlan(target: NotebookTarget, config: Config, env: Record<string, string>, tasks: TaskSpec[],
  resultsDir: string): PlanFile {
  const groups: PlanGroup[] = [];
  tasks.forEach((t, index) => {
    const last = groups[groups.length - 1];
    if (last?.name === t.group) last.count++;
    else groups.push({ name: t.group, first: index, count: 1 });
  });
  return {
    format: PLAN_FORMAT, version: PLAN_VERSION, notebook: target.notebook, target: target.name, profile: config.profile,
    env, config, resultsDir: path.resolve(resultsDir), code: codeVersion(), created: new Date().toISOString(),
    groups, tasks: tasks.map((t, index) => ({ ...t, index })),
  };
}

export const writePlan = (file: string, plan: PlanFile) => writeFileAtomic(file, JSON.stringify(plan, null, 2) + '\n');

/** Reads a plan file; a file that is not one, or one of another format version, is an error that says so. */
export function readPlan(file: string): PlanFile {
  if (!fs.existsSync(file)) throw new Error(`plan file not found: ${file}`);
  let plan: PlanFile;
  try {
    plan = JSON.parse(fs.readFileSync(file, 'utf8')) as PlanFile;
  } catch (e) {
    throw new Error(`${file} is not a plan file (${(e as Error).message})`);
  }
  if (plan?.format !== PLAN_FORMAT) {
    throw new Error(`${file} is not a plan file (no "format": "${PLAN_FORMAT}"); make one with --plan ... --emit`);
  }
  if (plan.version !== PLAN_VERSION) {
    throw new Error(`${file} is a plan of format ${plan.version}, this code reads format ${PLAN_VERSION}: ` +
      'it was made by another code version; emit it again');
  }
  return plan;
}

const shown = (v: string | undefined) => (v === undefined ? 'unset' : `'${v}'`);

/**
 * Checks that a plan was made by this code: the same sources (its fingerprint), and its FER_* settings still
 * resolving to the configuration it recorded (a profile's defaults may have changed).
 */
export function checkPlanCode(plan: PlanFile, file: string): void {
  const code = codeVersion();
  if (plan.code !== code) {
    throw new Error(`${file} was made by another code version (code ${plan.code}; this checkout is ${code}: ` +
      'lib/, tools/ or package-lock.json changed since): emit the plan again with this code, and let its tasks finish ' +
      'under one version');
  }
  const now = loadConfig(plan.env) as unknown as Record<string, unknown>;
  const then = plan.config as unknown as Record<string, unknown>;
  for (const k of [...new Set([...Object.keys(now), ...Object.keys(then)])].sort()) {
    if (canonicalJson(now[k]) !== canonicalJson(then[k])) {
      throw new Error(`${file} was made by another code version: setting ${k} was ${canonicalJson(then[k])} ` +
        `in the ${plan.profile} profile then, ${canonicalJson(now[k])} now; emit the plan again`);
    }
  }
}

/**
 * Checks that this process may run the plan's tasks: its code (checkPlanCode), the same FER_* settings (the
 * profile first) and the same results store. Every mismatch names the plan file and what differs.
 */
export function checkPlan(plan: PlanFile, file: string, opts: { env?: NodeJS.ProcessEnv; resultsDir: string }): void {
  checkPlanCode(plan, file);
  const raw = opts.env ?? process.env;
  const env = planEnv(raw);
  if (env.FER_PROFILE !== plan.profile) {
    throw new Error(`${file} is a plan of the ${plan.profile} profile, but this environment selects the ${env.FER_PROFILE} ` +
      `profile (FER_PROFILE=${shown(raw.FER_PROFILE)}): run its tasks with FER_PROFILE=${plan.profile} (its task script ` +
      `sets it), or emit a plan for ${env.FER_PROFILE}`);
  }
  for (const k of [...new Set([...Object.keys(env), ...Object.keys(plan.env)])].sort()) {
    if (k !== 'FER_PROFILE' && env[k] !== plan.env[k]) {
      throw new Error(`${file} was made with ${k}=${shown(plan.env[k])}, but this environment has ${k}=${shown(env[k])}: ` +
        'a plan\'s tasks train with its own settings (its task script sets them); set it as the plan has, ' +
        'or emit the plan again');
    }
  }
  if (path.resolve(plan.resultsDir) !== path.resolve(opts.resultsDir)) {
    throw new Error(`${file} stores its runs in ${plan.resultsDir}, but this process's results store is ` +
      `${opts.resultsDir} (FER_RESULTS_DIR): set FER_RESULTS_DIR=${plan.resultsDir}`);
  }
}

/** The task an index names (from the command line), or an error naming the index and the plan's range. */
export function taskAt(plan: PlanFile, file: string, index: string): PlanTask {
  const range = `0-${plan.tasks.length - 1}`;
  if (!/^\d+$/.test(index)) throw new Error(`task index '${index}' must be a whole number (${range} in ${file})`);
  const task = plan.tasks[Number(index)];
  if (!task) throw new Error(`task index ${index}: ${file} has ${plan.tasks.length} task(s), ${range}`);
  return task;
}
