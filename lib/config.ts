/**
 * Run parameters, by profile, with environment overrides (papermill-style).
 *
 * `FER_PROFILE=smoke|lite|paper` picks a column of PARAMETERS (`lite` is the
 * default); `FER_<NAME>` overrides one parameter, e.g. `FER_EPOCHS=3` or
 * `FER_IMAGE_SIZE=48`. An unknown `FER_*` variable or a value of the wrong
 * type is an error naming it, so a typo never runs silently with defaults.
 * @see notebooks/00-environment.ipynb
 */

export const PROFILES = ['smoke', 'lite', 'paper'] as const;
export type Profile = (typeof PROFILES)[number];

type Value = number | string | boolean;
interface Parameter<T extends Value> {
  doc: string;
  values: Record<Profile, T>;
  /** allowed values, for strings */
  oneOf?: readonly T[];
}

const param = <T extends Value>(doc: string, smoke: T, lite: T, paper: T, oneOf?: readonly T[]): Parameter<T> =>
  ({ doc, values: { smoke, lite, paper }, oneOf });

/** Every parameter a notebook or the runner reads. Add new ones here, documented. */
export const PARAMETERS = {
  seed: param('random seed for data generation, weight initialisation and batching', 1, 1, 1),
  dataset: param('dataset the paper notebooks train on (synfer is the embedded synthetic set)', 'synfer', 'synfer', 'ckplus',
    ['synfer', 'ckplus', 'oulu', 'mmi', 'rafdb', 'sfew', 'fer2013', 'multipie', 'csv']),
  dataRoot: param('folder of a real dataset in its published layout (paper profile)', '', '', ''),
  subjects: param('synthetic subjects generated', 12, 60, 60),
  imageSize: param('side of the square face images fed to the network, in pixels', 32, 64, 224),
  folds: param('subject-independent cross-validation folds', 2, 5, 10),
  backbone: param('feature extractor', 'lite-cnn', 'lite-cnn', 'resnet18', ['lite-cnn', 'resnet18']),
  batchSize: param('training batch size', 16, 32, 128),
  epochs: param('training epochs per fold (papers differ; paper notebooks may scale this)', 1, 12, 150),
  learningRate: param('base learning rate', 1e-3, 1e-3, 1e-3),
  force: param('recompute results even when an identical run is stored', false, false, false),
  benchSteps: param('timed training steps in the environment check (notebook 00)', 3, 10, 20),
  backboneWidth: param('base filter count of the lite backbones (lite-cnn: width x [1,2,4,8]); ResNet-18 ignores it', 8, 16, 64),
  pretrainedWeights: param('TF.js model.json of pretrained backbone weights (e.g. converted torchvision ResNet-18); empty: train from scratch', '', '', ''),
  optimizer: param('optimiser of the plain training step (papers may choose their own)', 'adam', 'adam', 'adam', ['adam', 'sgd', 'momentum']),
  lrSchedule: param('learning-rate schedule: constant, or multiplied by lrGamma after each epoch in lrMilestones', 'constant', 'constant', 'constant', ['constant', 'milestones']),
  lrMilestones: param('comma-separated epochs after which the learning rate is multiplied by lrGamma', '', '', ''),
  lrGamma: param('learning-rate factor at each milestone', 0.1, 0.1, 0.1),
  weightDecay: param('coupled L2 weight decay (PyTorch weight_decay)', 0, 0, 0),
  splRho: param('self-paced learning: comma-separated share of each class selected per pace, ending with 1 (spndl spec 3.2)', '0.5,0.6,0.7,0.8,0.9,1', '0.5,0.6,0.7,0.8,0.9,1', '0.5,0.6,0.7,0.8,0.9,1'),
  splPaceEpochs: param('self-paced learning: comma-separated epochs per pace; empty: epochs split 30:30:30:30:30:100 as in the paper', '', '', ''),
  channels: param('image channels fed to the network: 1 grey, 3 colour (grey images are repeated; synfer renders in colour)', 1, 1, 3, [1, 3]),
  manifest: param('manifest CSV of a real dataset (npm run data -- manifest ...); empty: <dataRoot>/manifest.csv', '', '', ''),
  synferExpressions: param('SynFER classes, comma-separated; empty: the 7 CK+ classes', '', '', ''),
  synferFrames: param('SynFER frames per sequence: the first is neutral, the last 3 are peaks', 4, 6, 6),
  synferConfound: param('SynFER spread of resting faces that mimic expression cues (0 none, 1 like weak expressions)', 1, 1, 1),
  synferSubtle: param('SynFER share of sequences with a subtle peak (intensity 0.3-0.5)', 0.2, 0.2, 0.2),
  synferLabelNoise: param('SynFER share of rows whose label is flipped to a look-alike class (truth in true_label)', 0, 0, 0),
  synferCorrupt: param('SynFER share of rows corrupted by an occluding patch, heavy blur or heavy noise', 0, 0, 0),
  synferPose: param('SynFER largest |yaw| in degrees (pitch and roll up to a third of it)', 0, 0, 0),
  synferLight: param('SynFER strongest side illumination, 0..1 (one light per sequence)', 0.3, 0.3, 0.3),
  synferOcclusion: param('SynFER chance scale of glasses, bangs and beards', 0.3, 0.3, 0.3),
} satisfies Record<string, Parameter<Value>>;

type Params = typeof PARAMETERS;

/** Parameters that do not change what a run computes: left out of stored run configurations and their hashes. */
export const NOT_RUN_SETTINGS = ['force', 'benchSteps'] as const;
export type RunSettings = Omit<Config, (typeof NOT_RUN_SETTINGS)[number]>;

/** The configuration without NOT_RUN_SETTINGS. */
export function runSettings(config: Config): RunSettings {
  const out: Record<string, unknown> = { ...config };
  for (const k of NOT_RUN_SETTINGS) delete out[k];
  return out as RunSettings;
}
export type Config = { profile: Profile } & {
  readonly [K in keyof Params]: Params[K] extends Parameter<infer T> ? (T extends number ? number : T extends boolean ? boolean : string) : never;
};

/** FER_* variables read elsewhere (not parameters of a run). */
const OTHER_VARIABLES = new Set(['FER_PROFILE', 'FER_BACKEND']);

const envName = (key: string) => 'FER_' + key.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase();

function parseValue(key: string, raw: string, like: Value, oneOf?: readonly Value[]): Value {
  const name = envName(key);
  let value: Value;
  if (typeof like === 'number') {
    value = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(value)) throw new Error(`${name}='${raw}' is not a number`);
  } else if (typeof like === 'boolean') {
    if (!['1', '0', 'true', 'false'].includes(raw)) throw new Error(`${name}='${raw}' must be true/false or 1/0`);
    value = raw === '1' || raw === 'true';
  } else {
    value = raw;
  }
  if (oneOf && !oneOf.includes(value)) throw new Error(`${name}='${raw}' must be one of: ${oneOf.join(', ')}`);
  return value;
}

export function profileFrom(env: NodeJS.ProcessEnv = process.env): Profile {
  const raw = env.FER_PROFILE?.trim() || 'lite';
  if (!(PROFILES as readonly string[]).includes(raw)) {
    throw new Error(`FER_PROFILE='${raw}' is not a profile; use one of: ${PROFILES.join(', ')}`);
  }
  return raw as Profile;
}

/**
 * The run configuration: the profile's values with FER_* overrides applied.
 * @param overrides explicit values (e.g. from a command line), applied last
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Record<keyof Params, Value>> = {}): Config {
  const profile = profileFrom(env);
  const known = new Set([...Object.keys(PARAMETERS).map(envName), ...OTHER_VARIABLES]);
  const unknown = Object.keys(env).filter((k) => k.startsWith('FER_') && !known.has(k));
  if (unknown.length) {
    throw new Error(`unknown setting ${unknown.join(', ')}; known: ${[...known].sort().join(', ')}`);
  }
  const config: Record<string, Value> = { profile };
  for (const [key, p] of Object.entries(PARAMETERS) as [string, Parameter<Value>][]) {
    const raw = env[envName(key)];
    config[key] = raw === undefined ? p.values[profile] : parseValue(key, raw, p.values[profile], p.oneOf);
  }
  for (const [key, value] of Object.entries(overrides)) {
    const p = (PARAMETERS as Record<string, Parameter<Value>>)[key];
    if (!p) throw new Error(`unknown setting '${key}'; known: ${Object.keys(PARAMETERS).join(', ')}`);
    if (value === undefined) continue;
    config[key] = parseValue(key, String(value), p.values[profile], p.oneOf);
  }
  return Object.freeze(config) as Config;
}

/** Rows for a table of the configuration: name, value, where it came from, meaning. */
export function describeConfig(config: Config, env: NodeJS.ProcessEnv = process.env) {
  return Object.entries(PARAMETERS).map(([key, p]) => ({
    parameter: key,
    value: config[key as keyof Params],
    source: env[envName(key)] !== undefined ? envName(key) : `profile ${config.profile}`,
    meaning: p.doc,
  }));
}
