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
} satisfies Record<string, Parameter<Value>>;

type Params = typeof PARAMETERS;
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
