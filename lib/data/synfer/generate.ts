/**
 * SynFER set generation: plans every image of a set (subjects, sequences,
 * frames, disturbances, label noise), renders them with bounded concurrency
 * and writes images, manifest.csv and synfer.json into a temp folder that is
 * renamed into place only when complete.
 *
 * Two layouts:
 * - `lab` (CK+ / Oulu-CASIA-like): one sequence per (subject, expression),
 *   frame 0 neutral, intensity rising to a peak over the last 3 frames; the
 *   manifest lists the 3 peak frames with neutral_path = frame 0.
 * - `wild` (RAF-DB / SFEW-like, also the disturbance and identity sets):
 *   single images with random expression (neutral is a class), wide pose,
 *   light and quality variation, no neutral reference, and a `split` column
 *   (train/test by subject).
 * @see notebooks/01-data-and-preprocessing.ipynb
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { CLASS_ORDER, CKPLUS_CLASSES, type Expression } from '../classes';
import { type ManifestRow, writeManifest } from '../manifest';
import { writeFileAtomic } from '../../core/atomic-write';
import { pick, rng, shuffled, uniform } from '../random';
import { activation, drawSubject, LOOK_ALIKE, type Subject, subjectColumns } from './face';
import { CLEAN, type Corruption, faceSvg, type Finish, FRONTAL_VIEW, LIGHT_DIRECTIONS, rasterise, type View, VIEW_SIDE } from './render';

export interface SynferOptions {
  mode: 'lab' | 'wild';
  subjects: number;
  seed: number;
  /** image side in pixels */
  size: number;
  color: boolean;
  expressions: Expression[];
  /** lab: frames per sequence (first neutral, last 3 peaks), at least 4 */
  frames: number;
  /** wild: images per subject */
  perSubject: number;
  /** wild: share of subjects in the test split */
  testFraction: number;
  /** spread of resting faces that mimic expression cues (0 = none, 1 = comparable to weak expressions) */
  confound: number;
  /** share of manifest rows whose label is flipped to a look-alike class */
  labelNoise: number;
  /** share of manifest rows corrupted (occluding patch, heavy blur or heavy noise) */
  corrupt: number;
  /** share of sequences (lab) with a subtle peak intensity 0.3-0.5 */
  subtle: number;
  /** largest |yaw| in degrees; yaw takes 5 bins -max, -max/2, 0, max/2, max; pitch and roll up to max/3 */
  pose: number;
  /** strongest illumination (0..1); direction is one of 5 */
  light: number;
  /** chance scale of glasses, bangs and beard */
  occlusion: number;
  /** image degradation level (0..1): random blur and sensor noise up to it */
  degrade: number;
}

const DEFAULTS: Record<SynferOptions['mode'], SynferOptions> = {
  lab: {
    mode: 'lab', subjects: 60, seed: 1, size: 64, color: false, expressions: [...CKPLUS_CLASSES], frames: 6, perSubject: 20,
    testFraction: 0.25, confound: 1, labelNoise: 0, corrupt: 0, subtle: 0.2, pose: 0, light: 0.3, occlusion: 0.3, degrade: 0,
  },
  wild: {
    mode: 'wild', subjects: 60, seed: 1, size: 64, color: false, expressions: [...CLASS_ORDER], frames: 1, perSubject: 20,
    testFraction: 0.25, confound: 1, labelNoise: 0.1, corrupt: 0, subtle: 0, pose: 30, light: 0.8, occlusion: 0.4, degrade: 0.5,
  },
};

/** The defaults of a layout. */
export const synferDefaults = (mode: SynferOptions['mode'] = 'lab'): SynferOptions => structuredClone(DEFAULTS[mode]);

/** Options filled from the layout's defaults and checked; errors name the option. */
export function resolveSynferOptions(partial: Partial<SynferOptions>): SynferOptions {
  const mode = partial.mode ?? 'lab';
  if (mode !== 'lab' && mode !== 'wild') throw new Error(`synfer option mode='${mode}' must be 'lab' or 'wild'`);
  const o: SynferOptions = { ...synferDefaults(mode), ...Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) };
  const int = (k: keyof SynferOptions, lo: number, hi: number) => {
    const v = o[k] as number;
    if (!Number.isInteger(v) || v < lo || v > hi) throw new Error(`synfer option ${k}=${v} must be an integer in [${lo}, ${hi}]`);
  };
  const num = (k: keyof SynferOptions, lo: number, hi: number) => {
    const v = o[k] as number;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi) throw new Error(`synfer option ${k}=${v} must be a number in [${lo}, ${hi}]`);
  };
  int('subjects', 1, 100000); int('seed', -2147483648, 2147483647); int('size', 16, 512);
  int('frames', 4, 60); int('perSubject', 1, 10000);
  num('testFraction', 0, 1); num('confound', 0, 5); num('labelNoise', 0, 1); num('corrupt', 0, 1); num('subtle', 0, 1);
  num('pose', 0, 60); num('light', 0, 1); num('occlusion', 0, 1); num('degrade', 0, 1);
  if (o.labelNoise + o.corrupt > 1) throw new Error(`synfer options labelNoise + corrupt = ${o.labelNoise + o.corrupt} must not exceed 1`);
  if (typeof o.color !== 'boolean') throw new Error(`synfer option color=${o.color} must be true or false`);
  if (!Array.isArray(o.expressions) || o.expressions.length < 2) throw new Error('synfer option expressions must list at least 2 classes');
  for (const e of o.expressions) {
    if (!(CLASS_ORDER as readonly string[]).includes(e)) throw new Error(`synfer option expressions: '${e}' is not one of ${CLASS_ORDER.join(', ')}`);
  }
  if (new Set(o.expressions).size !== o.expressions.length) throw new Error('synfer option expressions lists a class twice');
  if (mode === 'lab' && o.expressions.includes('neutral')) {
    throw new Error("synfer option expressions: 'neutral' is not a lab sequence (every sequence starts neutral; see withNeutralClass)");
  }
  o.expressions = CLASS_ORDER.filter((c) => o.expressions.includes(c));
  return o;
}

/** Version of the drawing: bumped when the same options draw different images, so stored sets are redrawn. */
export const SYNFER_VERSION = 3;

/** Largest per-frame shift of a lab sequence, in pixels at 32 px (scaled with the image). */
export const FRAME_JITTER_PX = 0.25;

/** Short hash of the options and the drawing version, naming the folder a set is cached in. */
export function synferHash(o: SynferOptions): string {
  return createHash('sha256').update(`v${SYNFER_VERSION}:`).update(JSON.stringify(o, Object.keys(o).sort())).digest('hex').slice(0, 10);
}

/** A readable set name, e.g. 'synfer-s60-64px-g-seed1' (+ layout and hash when not the lab defaults). */
export function synferName(o: SynferOptions): string {
  const base = `synfer-s${o.subjects}-${o.size}px-${o.color ? 'c' : 'g'}-seed${o.seed}`;
  const plain = { ...synferDefaults(o.mode), subjects: o.subjects, size: o.size, color: o.color, seed: o.seed };
  if (o.mode === 'lab' && synferHash(plain) === synferHash(o)) return base;
  return `${base}-${o.mode}-${synferHash(o).slice(0, 6)}`;
}

interface Planned {
  file: string; // relative to the set folder
  subject: Subject;
  expression: Expression;
  intensity: number;
  view: View;
  finish: Finish;
  /** manifest row (peak frames / wild images), or null for frames kept for figures only */
  row: ManifestRow | null;
}

const r3 = (v: number) => Math.round(v * 1000) / 1000;
const subjectId = (i: number, n: number) => `s${String(i + 1).padStart(Math.max(3, String(n).length), '0')}`;

function drawView(o: SynferOptions, r: () => number, background: number): View {
  const bins = [-1, -0.5, 0, 0.5, 1];
  const side = o.pose / 3;
  return {
    yaw: o.pose * pick(r, bins), pitch: r3(uniform(r, -side, side)), roll: r3(uniform(r, -side, side)),
    shiftX: 0, shiftY: 0,
    light: pick(r, LIGHT_DIRECTIONS), lightStrength: r3(uniform(r, 0, o.light)), background,
  };
}

function viewColumns(v: View, f: Finish, o: SynferOptions): Record<string, string | number> {
  return {
    yaw: r3(v.yaw), pitch: v.pitch, roll: v.roll, pose_bin: o.pose > 0 ? Math.round((v.yaw / o.pose) * 2) + 2 : 2,
    light_dir: v.light, light_bin: LIGHT_DIRECTIONS.indexOf(v.light), light_strength: v.lightStrength,
    shift_x: r3((v.shiftX * o.size) / VIEW_SIDE), shift_y: r3((v.shiftY * o.size) / VIEW_SIDE), background: v.background,
    brightness: r3(f.brightness), contrast: r3(f.contrast), blur_sigma: r3(f.blur), noise_sigma: r3(f.noise),
  };
}

/** Every image of the set, with its manifest row; no pixels yet. */
function plan(o: SynferOptions): Planned[] {
  const n = o.subjects;
  const subjects = Array.from({ length: n }, (_, i) => drawSubject(o.seed, subjectId(i, n), o.confound, o.occlusion));
  const out: Planned[] = [];
  const common = (s: Subject, expression: Expression) => ({
    subject: s.id, frontal_path: `frontal/${s.id}.png`, true_label: expression, ...subjectColumns(s),
  });
  if (o.mode === 'lab') {
    for (const s of subjects) {
      for (const expression of o.expressions) {
        const sequence = `${s.id}_${expression}`;
        const r = rng(o.seed, 'sequence', sequence);
        const peak = r() < o.subtle ? uniform(r, 0.3, 0.5) : uniform(r, 0.8, 1);
        // Session: one pose and light per sequence. Every frame, the neutral one included, then moves by
        // at most half a pixel at 32 px and changes brightness by at most 0.02: small beside the expression.
        const session = drawView(o, r, 128);
        const folder = `frames/${s.id}/${expression}`;
        const jitter = FRAME_JITTER_PX * (VIEW_SIDE / 32);
        for (let frame = 0; frame < o.frames; frame++) {
          const isPeak = frame >= o.frames - 3;
          const ramp = Math.min(1, frame / (o.frames - 3));
          const intensity = frame === 0 ? 0 : Math.max(0.05, Math.min(1, peak * ramp + (isPeak ? uniform(r, -0.03, 0.03) : 0)));
          const view: View = { ...session, shiftX: uniform(r, -jitter, jitter), shiftY: uniform(r, -jitter, jitter) };
          const finish: Finish = {
            ...CLEAN, key: `${o.seed}:${sequence}:${frame}`,
            brightness: uniform(r, -0.01, 0.01), contrast: uniform(r, 0.99, 1.01),
            blur: uniform(r, 0, o.degrade * 1.2), noise: uniform(r, 0, o.degrade * 0.04),
          };
          const file = `${folder}/f${String(frame).padStart(2, '0')}.png`;
          const row: ManifestRow | null = isPeak ? {
            path: file, sequence, frame, label: expression, neutral_path: `${folder}/f00.png`,
            ...common(s, expression), intensity: r3(intensity), peak_intensity: r3(peak),
            ...viewColumns(view, finish, o),
          } as ManifestRow : null;
          out.push({ file, subject: s, expression, intensity, view, finish, row });
        }
      }
    }
  } else {
    const order = shuffled(rng(o.seed, 'split'), subjects.map((s) => s.id));
    const test = new Set(order.slice(0, Math.round(o.testFraction * n)));
    for (const s of subjects) {
      for (let k = 0; k < o.perSubject; k++) {
        const key = `${s.id}_i${String(k).padStart(3, '0')}`;
        const r = rng(o.seed, 'image', key);
        const expression = pick(r, o.expressions);
        const intensity = expression === 'neutral' ? 0 : uniform(r, 0.3, 1);
        const view = drawView(o, r, Math.round(uniform(r, 40, 215)));
        const finish: Finish = {
          ...CLEAN, key: `${o.seed}:${key}`, brightness: uniform(r, -0.1, 0.1) * o.degrade, contrast: 1 + uniform(r, -0.2, 0.2) * o.degrade,
          blur: uniform(r, 0, o.degrade * 1.2), noise: uniform(r, 0, o.degrade * 0.04),
        };
        const file = `images/${s.id}/${key}.png`;
        const row = {
          path: file, sequence: key, frame: 0, label: expression, neutral_path: '', split: test.has(s.id) ? 'test' : 'train',
          ...common(s, expression), intensity: r3(intensity), peak_intensity: r3(intensity), ...viewColumns(view, finish, o),
        } as ManifestRow;
        out.push({ file, subject: s, expression, intensity, view, finish, row });
      }
    }
  }
  injectNoise(o, out);
  return out;
}

/** Flips exactly round(labelNoise*N) labels and corrupts round(corrupt*N) images, chosen by seed. */
function injectNoise(o: SynferOptions, planned: Planned[]): void {
  const rows = planned.filter((p) => p.row);
  const r = rng(o.seed, 'label-noise');
  const order = shuffled(r, rows.map((_, i) => i));
  const nFlip = Math.round(o.labelNoise * rows.length), nCorrupt = Math.round(o.corrupt * rows.length);
  const kinds: Corruption[] = ['patch', 'blur', 'noise'];
  order.forEach((idx, k) => {
    const p = rows[idx], row = p.row!;
    row.label_flipped = 0;
    row.corruption = 'none';
    if (k < nFlip) {
      const alike = LOOK_ALIKE[p.expression];
      row.label = o.expressions.includes(alike) ? alike : pick(r, o.expressions.filter((e) => e !== p.expression));
      row.label_flipped = 1;
    } else if (k < nFlip + nCorrupt) {
      p.finish = { ...p.finish, corruption: kinds[(k - nFlip) % 3] };
      row.corruption = p.finish.corruption;
    }
  });
}

/** Runs `task` over `items` with at most `limit` in flight (sharp works on its own threads). */
async function pool<T>(items: T[], limit: number, task: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await task(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export interface SynferResult {
  dir: string;
  manifest: string;
  options: SynferOptions;
  rows: number;
  images: number;
  seconds: number;
}

/**
 * Generates a set into `dir` (which must not exist yet, or `overwrite`).
 * @param onProgress called with (images done, images total)
 */
export async function generateSynfer(dir: string, partial: Partial<SynferOptions>, opts: { overwrite?: boolean; onProgress?: (done: number, total: number) => void } = {}): Promise<SynferResult> {
  const o = resolveSynferOptions(partial);
  const start = Date.now();
  const target = path.resolve(dir);
  if (fs.existsSync(target) && !opts.overwrite) throw new Error(`output folder ${dir} already exists (use --force to replace it)`);
  const planned = plan(o);
  const tmp = `${target}.tmp-${process.pid}-${Date.now()}`;
  fs.mkdirSync(tmp, { recursive: true });
  try {
    const channels = o.color ? 3 : 1;
    const folders = new Set(planned.map((p) => path.dirname(p.file)));
    for (const f of [...folders, 'frontal']) fs.mkdirSync(path.join(tmp, f), { recursive: true });
    const subjects = [...new Map(planned.map((p) => [p.subject.id, p.subject])).values()];
    const total = planned.length + subjects.length;
    let done = 0;
    const tick = () => { done++; if (opts.onProgress && (done % 50 === 0 || done === total)) opts.onProgress(done, total); };
    await pool(planned, 8, async (p) => {
      const { svg, roi } = faceSvg(p.subject, activation(p.subject, p.expression, p.intensity), p.view, o.size);
      fs.writeFileSync(path.join(tmp, p.file), await rasterise(svg, o.size, channels, p.finish));
      if (p.row) {
        [p.row.roi_eyes_x0, p.row.roi_eyes_y0, p.row.roi_eyes_x1, p.row.roi_eyes_y1] = roi.eyes;
        [p.row.roi_mouth_x0, p.row.roi_mouth_y0, p.row.roi_mouth_x1, p.row.roi_mouth_y1] = roi.mouth;
      }
      tick();
    });
    // The identity's frontal neutral face under even light: the oracle reference (IDFERM).
    await pool(subjects, 8, async (s) => {
      const { svg } = faceSvg(s, activation(s, 'neutral', 0), FRONTAL_VIEW, o.size);
      fs.writeFileSync(path.join(tmp, 'frontal', `${s.id}.png`), await rasterise(svg, o.size, channels, { ...CLEAN, key: `frontal:${s.id}` }));
      tick();
    });
    const rows = planned.flatMap((p) => (p.row ? [p.row] : []));
    writeManifest(path.join(tmp, 'manifest.csv'), rows);
    writeFileAtomic(path.join(tmp, 'synfer.json'), JSON.stringify({
      generator: 'synfer', version: SYNFER_VERSION, name: synferName(o), hash: synferHash(o), options: o,
      counts: { subjects: subjects.length, images: planned.length, rows: rows.length },
    }, null, 2) + '\n');
    const result = { dir: target, manifest: path.join(target, 'manifest.csv'), options: o, rows: rows.length, images: total, seconds: (Date.now() - start) / 1000 };
    if (fs.existsSync(target)) {
      // another process (e.g. a cluster task) finished the same set first: keep it, others may be reading it
      if (!opts.overwrite && fs.existsSync(result.manifest)) {
        fs.rmSync(tmp, { recursive: true, force: true });
        return result;
      }
      fs.rmSync(target, { recursive: true, force: true });
    }
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.renameSync(tmp, target);
    return result;
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** Renders one face to PNG without writing a set (figures, factor sweeps). */
export async function renderSample(args: {
  seed: number; subject: string; expression: Expression; intensity: number; size: number; color?: boolean;
  confound?: number; occlusion?: number; view?: Partial<View>; finish?: Partial<Omit<Finish, 'key'>>;
  /** replaces traits of the drawn subject (e.g. glasses: true) */
  traits?: Partial<Subject>;
}): Promise<Buffer> {
  const s = { ...drawSubject(args.seed, args.subject, args.confound ?? 1, args.occlusion ?? 0), ...args.traits };
  const { svg } = faceSvg(s, activation(s, args.expression, args.intensity), { ...FRONTAL_VIEW, ...args.view }, args.size);
  return rasterise(svg, args.size, args.color ? 3 : 1, { ...CLEAN, ...args.finish, key: `sample:${args.subject}` });
}
