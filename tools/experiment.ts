/**
 * `npm run experiment -- --method M [--variant V] [--dataset D] [--profile P]
 *  [--seed S] [--folds K] [--epochs E] [--option name=value ...] [--force]`
 * Runs one experiment (every fold), or reuses its stored result, and prints
 * where the results went. `--list` shows the methods and their variants.
 * `--plan NOTEBOOK --emit slurm|local`, `--task PLAN I` and `--status PLAN`
 * run a notebook's runs as tasks (./experiment-plan.ts).
 * @see notebooks/02-spndl.ipynb
 */
import { parseArgs } from 'util';
import { describeBackend, initBackend } from '../lib/backend';
import { loadConfig, PROFILES } from '../lib/config';
import type { OptionValue } from '../lib/train/run-types';
import { describeMethods, getMethod } from '../lib/experiments/methods';
import { runExperiment } from '../lib/experiments/runner';
import { frameRows, summarizeRuns } from '../lib/results/store';
import { showTable } from '../lib/notebook/display';
import { PLAN_USAGE, planCommand, rejectRunFlags, statusCommand, taskCommand } from './experiment-plan';

const USAGE = `usage: npm run experiment -- --method M [options]

  --method M        method to run (see --list)
  --variant V       variant of the method (default: the method's default)
  --dataset D       dataset (config 'dataset')
  --profile P       ${PROFILES.join(' | ')} (default: FER_PROFILE or lite)
  --seed S          random seed
  --folds K         cross-validation folds
  --epochs E        epochs per fold
  --option k=v      a method option (repeatable)
  --force           recompute even if an identical run is stored
  --list            list methods and variants
  -h, --help        this help

       npm run experiment -- --plan NOTEBOOK [--emit slurm|local] [--out DIR] [--workers N]

${PLAN_USAGE}

Other parameters come from lib/config.ts profiles and FER_* variables.`;

function parseOption(text: string, method: string): [string, OptionValue] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new Error(`--option '${text}' must look like name=value`);
  const [name, raw] = [text.slice(0, eq), text.slice(eq + 1)];
  const spec = getMethod(method).options[name];
  if (!spec) throw new Error(`--option ${name}: method '${method}' has no such option; options: ${Object.keys(getMethod(method).options).join(', ') || '(none)'}`);
  if (typeof spec.default === 'number') {
    const v = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(v)) throw new Error(`--option ${name}='${raw}' is not a number`);
    return [name, v];
  }
  if (typeof spec.default === 'boolean') {
    if (!['true', 'false', '1', '0'].includes(raw)) throw new Error(`--option ${name}='${raw}' must be true or false`);
    return [name, raw === 'true' || raw === '1'];
  }
  return [name, raw];
}

export async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv, strict: true, allowPositionals: true,
    options: {
      method: { type: 'string' }, variant: { type: 'string' }, dataset: { type: 'string' }, profile: { type: 'string' },
      seed: { type: 'string' }, folds: { type: 'string' }, epochs: { type: 'string' },
      option: { type: 'string', multiple: true }, force: { type: 'boolean' }, list: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      plan: { type: 'string' }, emit: { type: 'string' }, out: { type: 'string' }, workers: { type: 'string' },
      task: { type: 'string' }, status: { type: 'string' },
    },
  });
  if (values.help) return console.log(USAGE);
  if (values.profile !== undefined && !(PROFILES as readonly string[]).includes(values.profile)) {
    throw new Error(`--profile '${values.profile}' is not a profile; use one of: ${PROFILES.join(', ')}`);
  }
  if (values.task !== undefined) {
    if (positionals.length !== 1) {
      throw new Error(`--task takes a plan file and one task index, e.g. --task plan.json 3 (got ${positionals.length} index(es))`);
    }
    return taskCommand(values.task, positionals[0]);
  }
  if (positionals.length) throw new Error(`unexpected argument '${positionals[0]}'\n\n${USAGE}`);
  if (values.status !== undefined) return statusCommand(values.status);
  if (values.plan !== undefined) {
    const { dataset, seed, folds, epochs, option, force, method: m, variant } = values;
    rejectRunFlags({ method: m, variant, dataset, seed, folds, epochs, option, force });
    return planCommand(values);
  }
  for (const flag of ['emit', 'out', 'workers'] as const) {
    if (values[flag] !== undefined) throw new Error(`--${flag} goes with --plan`);
  }
  if (values.list) return showTable(describeMethods(), { caption: 'methods and variants' });
  if (!values.method) throw new Error(`--method is required\n\n${USAGE}`);
  const method = getMethod(values.method);
  for (const name of ['seed', 'folds', 'epochs'] as const) {
    const v = values[name];
    if (v !== undefined && !/^\d+$/.test(v)) throw new Error(`--${name} '${v}' must be a non-negative integer`);
  }
  const env = values.profile ? { ...process.env, FER_PROFILE: values.profile } : process.env;
  const config = loadConfig(env, {
    dataset: values.dataset, seed: values.seed, folds: values.folds, epochs: values.epochs, force: values.force,
  });
  const options = Object.fromEntries((values.option ?? []).map((o) => parseOption(o, method.name)));
  const backend = await initBackend();
  console.log(`backend: ${describeBackend(backend)}`);
  const run = await runExperiment({ config, method: method.name, variant: values.variant, options, log: (l) => console.log(l) });
  showTable(frameRows(summarizeRuns([run])), { caption: `${run.runId}${run.cached ? ' (stored result)' : ''}`, digits: 4 });
  console.log(`results: ${run.dir}`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e: Error) => {
    console.error(`error: ${e.message}`);
    process.exit(1);
  });
}
