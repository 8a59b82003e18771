/**
 * From the configuration (lib/config.ts) to a run's resolved settings: the
 * method's options, the self-paced schedule and the plain optimiser. Every
 * error names the setting at fault.
 * @see notebooks/02-spndl.ipynb
 */
import { runSettings, type Config } from '../config';
import type { OptimizerSpec } from '../train/optim';
import { validateOptimizerSpec } from '../train/optim';
import { paceEpochsFor, totalEpochs, validateSchedule } from '../train/spl';
import type { Method, OptionValue, RunConfig } from '../train/run-types';

/** Parses a comma-separated list of numbers; `name` is the setting, for errors. */
export function parseNumberList(text: string, name: string): number[] {
  if (text.trim() === '') return [];
  return text.split(',').map((part) => {
    const v = Number(part.trim());
    if (part.trim() === '' || !Number.isFinite(v)) throw new Error(`${name}='${text}': '${part.trim()}' is not a number`);
    return v;
  });
}

/** The optimiser spec the plain training step uses (baseline; papers may set their own). */
export function optimizerSpecFromConfig(config: Pick<Config, 'optimizer' | 'learningRate' | 'weightDecay' | 'lrSchedule' | 'lrMilestones' | 'lrGamma'>): OptimizerSpec {
  const spec: OptimizerSpec = {
    kind: config.optimizer as OptimizerSpec['kind'],
    learningRate: config.learningRate,
    weightDecay: config.weightDecay,
    schedule: config.lrSchedule === 'milestones'
      ? { kind: 'milestones', milestones: parseNumberList(config.lrMilestones, 'lrMilestones'), gamma: config.lrGamma }
      : { kind: 'constant' },
  };
  validateOptimizerSpec(spec, 'optimizer settings');
  return spec;
}

/**
 * A variant's options: the method's defaults, then the variant's, then
 * `overrides`; unknown options and bad values are errors.
 */
export function resolveOptions(method: Method, variant: string, overrides: Record<string, OptionValue> = {}): Record<string, OptionValue> {
  const v = method.variants[variant];
  if (!v) throw new Error(`method '${method.name}' has no variant '${variant}'; variants: ${Object.keys(method.variants).join(', ')}`);
  const options: Record<string, OptionValue> = {};
  for (const [k, spec] of Object.entries(method.options)) options[k] = spec.default;
  for (const [source, values] of [[`variant '${variant}'`, v.options ?? {}], ['options', overrides]] as const) {
    for (const [k, value] of Object.entries(values)) {
      const spec = method.options[k];
      if (!spec) throw new Error(`${source}: method '${method.name}' has no option '${k}'; options: ${Object.keys(method.options).join(', ') || '(none)'}`);
      if (typeof value !== typeof spec.default) throw new Error(`${source}: option '${k}'=${value} must be a ${typeof spec.default}`);
      if (spec.oneOf && !spec.oneOf.includes(value)) throw new Error(`${source}: option '${k}'=${value} must be one of: ${spec.oneOf.join(', ')}`);
      options[k] = value;
    }
  }
  return options;
}

/**
 * Resolves a run: the variant's options (resolveOptions) and the
 * self-paced schedule; bad settings are errors.
 */
export function resolveRunConfig(config: Config, method: Method, variant: string, overrides: Record<string, OptionValue> = {}): RunConfig {
  const v = method.variants[variant];
  const options = resolveOptions(method, variant, overrides);
  if (!(Number.isInteger(config.epochs) && config.epochs >= 1)) throw new Error(`epochs=${config.epochs} must be a positive integer`);
  if (!(Number.isInteger(config.batchSize) && config.batchSize >= 1)) throw new Error(`batchSize=${config.batchSize} must be a positive integer`);
  if (!(Number.isInteger(config.folds) && config.folds >= 1)) throw new Error(`folds=${config.folds} must be a positive integer`);
  optimizerSpecFromConfig(config); // validates the optimiser settings early
  const rho = parseNumberList(config.splRho, 'splRho');
  const given = parseNumberList(config.splPaceEpochs, 'splPaceEpochs');
  const paceEpochs = given.length ? given : paceEpochsFor(config.epochs, rho.length || 6);
  const spl = v.spl ? { rho, paceEpochs } : null;
  if (spl) validateSchedule(spl);
  return {
    // the pace lengths as used, so a schedule given explicitly and the same one derived from the epochs hash alike
    ...runSettings(config, method.paper), splPaceEpochs: paceEpochs.join(','), method: method.name, variant, options,
    totalEpochs: spl ? totalEpochs(spl) : config.epochs, spl, paceEpochs,
  };
}
