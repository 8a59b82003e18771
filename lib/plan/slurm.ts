/**
 * A plan as Slurm job arrays: task.sbatch runs one task (one array element),
 * and submit.sh submits it once per group of the plan, each group's array
 * depending on the one before (--dependency=afterok), so that the shared
 * stages are stored before any fold that starts from them. Both scripts set
 * exactly the plan's FER_* settings, whatever the submitting shell has.
 * @see notebooks/02-spndl.ipynb
 */
import * as path from 'path';
import { PROJECT_ROOT } from '../paths';
import type { PlanFile, PlanGroup } from './plan-file';

/** Array elements per submission: below Slurm's default MaxArraySize (1001); larger groups go in several arrays. */
export const ARRAY_CHUNK = 1000;

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Shell lines that leave exactly the plan's settings in the environment. */
function envLines(plan: PlanFile): string[] {
  return [
    '# exactly the plan\'s settings: drop every FER_* variable the submitting shell had, then set the plan\'s',
    'for v in $(compgen -e); do case "$v" in FER_*) unset "$v" ;; esac; done',
    ...Object.entries(plan.env).map(([k, v]) => `export ${k}=${quote(v)}`),
    `export FER_RESULTS_DIR=${quote(plan.resultsDir)}`,
  ];
}

const header = (plan: PlanFile, planFile: string) =>
  `notebook ${plan.notebook} (${plan.target}), ${plan.profile} profile, ${plan.tasks.length} tasks: ${planFile}`;

/** The array job script: one task of the plan; $1 is the index of its group's first task in this submission. */
export function taskScript(plan: PlanFile, planFile: string, outDir: string, node = process.execPath): string {
  return [
    '#!/bin/bash',
    `# One task of ${header(plan, planFile)}.`,
    '# submit.sh submits this script once per group; the task index is $1 plus the array index.',
    `#SBATCH --output=${path.join(outDir, 'logs', '%x-%A_%a.out')}`,
    '#SBATCH --open-mode=append',
    '#SBATCH --requeue',
    '#SBATCH --cpus-per-task=1',
    '#SBATCH --kill-on-invalid-dep=yes',
    'set -euo pipefail',
    `cd ${quote(PROJECT_ROOT)}`,
    ...envLines(plan),
    '# one fold per task: wasm on the task\'s cores (the numbers do not depend on the thread count)',
    'export FER_THREADS="${SLURM_CPUS_PER_TASK:-1}"',
    `exec "\${NODE:-${node}}" dist/tools/experiment.js --task ${quote(planFile)} "$(( $1 + SLURM_ARRAY_TASK_ID ))"`,
    '',
  ].join('\n');
}

/** The submissions of one group: chunks of at most ARRAY_CHUNK tasks, as (variable, first index, count). */
function chunks(group: PlanGroup): { id: string; first: number; count: number }[] {
  const out = [];
  for (let k = 0; k * ARRAY_CHUNK < group.count; k++) {
    const first = group.first + k * ARRAY_CHUNK;
    const count = Math.min(ARRAY_CHUNK, group.count - k * ARRAY_CHUNK);
    out.push({ id: `${group.name.replace(/\W/g, '_')}_${k}`, first, count });
  }
  return out;
}

/** The submission script: checks the plan, submits every group's array after the one before, records the job ids. */
export function submitScript(plan: PlanFile, planFile: string, outDir: string, node = process.execPath): string {
  const task = path.join(outDir, 'task.sbatch');
  const jobs = path.join(outDir, 'jobs.txt');
  const lines = [
    '#!/bin/bash',
    `# Submits ${header(plan, planFile)}`,
    `# into ${plan.resultsDir}, one job array per group; each array waits for the group before it (afterok).`,
    '# Arguments go to every sbatch call, e.g. ./submit.sh --partition=gpu --time=8:00:00 (or set SBATCH_* variables).',
    'set -euo pipefail',
    `cd ${quote(PROJECT_ROOT)}`,
    ...envLines(plan),
    `NODE="\${NODE:-${node}}"`,
    '# fails, saying why, when the plan was made by other code than this checkout\'s (or dist/ is not built from it)',
    `"$NODE" dist/tools/experiment.js --status ${quote(planFile)}`,
    `mkdir -p ${quote(path.join(outDir, 'logs'))}`,
    `: > ${quote(jobs)}`,
  ];
  let previous: string[] = [];
  for (const group of plan.groups) {
    const ids = chunks(group);
    for (const c of ids) {
      const dep = previous.length ? ` --dependency=afterok:${previous.map((p) => `$${p}`).join(':')}` : '';
      const name = `fer${plan.notebook}-${plan.profile}-${group.name}`;
      lines.push(
        `${c.id}=$(sbatch --parsable --job-name=${quote(name)} --array=0-${c.count - 1}${dep} "$@" ${quote(task)} ` +
          `${c.first})`,
        `${c.id}=\${${c.id}%%;*}`,
        `echo "${group.name} $${c.id} tasks ${c.first}-${c.first + c.count - 1}" | tee -a ${quote(jobs)}`,
      );
    }
    previous = ids.map((c) => c.id);
  }
  lines.push(`echo "submitted ${plan.tasks.length} tasks; watch them with squeue --me, sacct -j <job>, or:"`,
    `echo "  $NODE dist/tools/experiment.js --status ${planFile}"`, '');
  return lines.join('\n');
}
