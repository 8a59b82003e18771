/**
 * `npm run data -- synfer --out data/synfer [options]`: generates the
 * synthetic face set (SynFER): images, manifest.csv and synfer.json.
 * @see notebooks/01-data-and-preprocessing.ipynb
 */
import { parseArgs } from 'util';
import type { Expression } from '../lib/data/classes';
import { generateSynfer, resolveSynferOptions, synferDefaults, type SynferOptions } from '../lib/data/synfer/generate';
import { progressLine } from '../lib/core/progress';

const d = synferDefaults('lab');
const w = synferDefaults('wild');
const HELP = `usage: npm run data -- synfer --out DIR [options]

Generates SynFER, the synthetic face set: images, DIR/manifest.csv (one row per
image the protocol uses) and DIR/synfer.json (the settings). Same options and
seed give byte-identical files. The set is written to a temp folder and renamed
into place when complete.

  --out DIR            output folder (required; must not exist unless --force)
  --mode lab|wild      lab: CK+-like sequences, neutral first frame, 3 peak frames
                       wild: single images, wide pose/light/quality, train/test split
                       (default ${d.mode})
  --subjects N         number of subjects (default ${d.subjects})
  --seed S             random seed (default ${d.seed})
  --size PX            image side in pixels (default ${d.size})
  --color              colour images (default greyscale)
  --expressions LIST   comma-separated classes (lab default: ${d.expressions.join(',')};
                       wild default adds neutral)
  --frames N           lab: frames per sequence, >= 4 (default ${d.frames})
  --per-subject N      wild: images per subject (default ${w.perSubject})
  --test-fraction F    wild: share of subjects in the test split (default ${w.testFraction})
  --confound C         spread of resting faces that mimic expression cues (default ${d.confound})
  --label-noise R      share of rows whose label is flipped to a look-alike (lab ${d.labelNoise}, wild ${w.labelNoise})
  --corrupt R          share of rows corrupted by patch/blur/noise (default ${d.corrupt})
  --subtle R           lab: share of sequences with a subtle peak (default ${d.subtle})
  --pose DEG           largest |yaw|; pitch and roll up to DEG/3 (lab ${d.pose}, wild ${w.pose})
  --light S            strongest side illumination, 0..1 (lab ${d.light}, wild ${w.light})
  --occlusion P        chance scale of glasses, bangs, beard (lab ${d.occlusion}, wild ${w.occlusion})
  --degrade Q          random blur and sensor noise level, 0..1 (lab ${d.degrade}, wild ${w.degrade})
  --force              replace DIR if it exists
  -h, --help           show this help`;

const NUMERIC: Record<string, keyof SynferOptions> = {
  subjects: 'subjects', seed: 'seed', size: 'size', frames: 'frames', 'per-subject': 'perSubject',
  'test-fraction': 'testFraction', confound: 'confound', 'label-noise': 'labelNoise', corrupt: 'corrupt',
  subtle: 'subtle', pose: 'pose', light: 'light', occlusion: 'occlusion', degrade: 'degrade',
};

/** Parses the command line into generator options; errors name the option. */
export function parseSynferArgs(args: string[]): { out?: string; force: boolean; help: boolean; options: Partial<SynferOptions> } {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true, strict: true,
    options: {
      out: { type: 'string' }, mode: { type: 'string' }, color: { type: 'boolean' }, expressions: { type: 'string' },
      force: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false },
      ...Object.fromEntries(Object.keys(NUMERIC).map((k) => [k, { type: 'string' as const }])),
    },
  });
  if (positionals.length) throw new Error(`unexpected argument '${positionals[0]}' (options start with --)`);
  const options: Partial<SynferOptions> = {};
  for (const [flag, key] of Object.entries(NUMERIC)) {
    const raw = (values as unknown as Record<string, string | undefined>)[flag];
    if (raw === undefined) continue;
    const v = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(v)) throw new Error(`--${flag} '${raw}' is not a number`);
    (options as Record<string, number>)[key] = v;
  }
  if (values.mode !== undefined) {
    if (values.mode !== 'lab' && values.mode !== 'wild') throw new Error(`--mode '${values.mode}' must be lab or wild`);
    options.mode = values.mode;
  }
  if (values.color) options.color = true;
  if (values.expressions !== undefined) options.expressions = values.expressions.split(',').map((e) => e.trim().toLowerCase()) as Expression[];
  try {
    resolveSynferOptions(options);
  } catch (e) {
    // Name the option as the user typed it: 'synfer option labelNoise=2' -> '--label-noise=2'.
    const flags: Record<string, string> = { ...Object.fromEntries(Object.entries(NUMERIC).map(([f, k]) => [k, f])), expressions: 'expressions', mode: 'mode' };
    throw new Error((e as Error).message.replace(/synfer options? (\w+)/g, (_, k: string) => `--${flags[k] ?? k}`));
  }
  return { out: values.out, force: !!values.force, help: !!values.help, options };
}

export async function main(args: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseSynferArgs(args);
  } catch (e) {
    throw new Error(`${(e as Error).message}\n\n${HELP}`);
  }
  if (parsed.help) {
    console.log(HELP);
    return;
  }
  if (!parsed.out) throw new Error(`--out DIR is required\n\n${HELP}`);
  const progress = progressLine();
  const result = await generateSynfer(parsed.out, parsed.options, {
    overwrite: parsed.force,
    onProgress: (done, total) => progress.update(`synfer: ${done}/${total} images`),
  });
  progress.done(`synfer: ${result.images} images, ${result.rows} manifest rows in ${result.seconds.toFixed(1)}s -> ${result.manifest}`);
}
