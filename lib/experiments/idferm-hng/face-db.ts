/**
 * IDFERM's face database (face-db), the HNG's training pairs: in the lite/smoke profiles a second SynFER
 * population (another seed, `idfermHngSubjects` subjects): inputs are its expressive frames and onset
 * frames, targets its `frontal_path` renders (the guiding set). With `idfermHngManifest` (the paper
 * profile: a Multi-PIE manifest, whose neutral_path is the frontal neutral face of the same subject,
 * session and illumination) the pairs come from real faces (`hngPairRows`: the paper's near-frontal
 * poses and four expressions, IDFERM Sec. 5.1, every other row listed with its reason), and the HNG
 * is trained on them before any FER data is touched.
 * @see notebooks/04-idferm.ipynb
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Config } from '../../config';
import { loadDataset, loadManifestSet, type FerSet } from '../../data/dataset';
import { readImage } from '../../data/image';
import { type Exclusion, type ManifestRow, readManifest, writeManifest } from '../../data/manifest';
import { RESULTS_DIR, writeCsv } from '../../results/store';
import { deriveSeed } from '../../train/rng';
import { fileSha } from './settings';

/** Multi-PIE expressions the paper leaves out of HNG training (IDFERM Sec. 5.1: squint and scream). */
const DROPPED_LABELS = new Set(['squint', 'scream']);
/** Widest yaw of the paper's five near-frontal pose groups (IDFERM Sec. 5.1: −45° … +45°). */
export const HNG_MAX_YAW = 45;

/**
 * The rows of a real face-db manifest that become HNG pairs (input -> its
 * neutral_path, the frontal neutral face of the same subject and session),
 * and every other row with its reason: no frontal neutral target, an
 * expression the paper drops, or a pose outside ±45° (rows with a `yaw`
 * column; an empty yaw is a raised camera). Nothing is dropped silently.
 */
export function hngPairRows(rows: ManifestRow[]): { pairs: ManifestRow[]; excluded: Exclusion[] } {
  const pairs: ManifestRow[] = [], excluded: Exclusion[] = [];
  for (const r of rows) {
    const yaw = r.yaw === undefined ? 0 : r.yaw === '' ? NaN : Number(r.yaw);
    const reason = !r.neutral_path ? 'no frontal neutral target (neutral_path) for this subject, session and illumination'
      : DROPPED_LABELS.has(r.label) ? `expression '${r.label}' is not used for the HNG (IDFERM §5.1)`
      : !Number.isFinite(yaw) ? 'camera without a yaw angle (raised camera)'
      : Math.abs(yaw) > HNG_MAX_YAW ? `yaw ${yaw}° is outside the near-frontal ±${HNG_MAX_YAW}°`
      : '';
    if (reason) excluded.push({ file: r.path, reason });
    else pairs.push(r);
  }
  return { pairs, excluded };
}

/**
 * The pair manifest of `idfermHngManifest`: `hngPairRows` of it, written
 * (absolute paths) to <resultsDir>/hng/pairs-<sha>/manifest.csv with
 * excluded.csv beside it, once per manifest content.
 */
export function hngPairManifest(manifest: string, resultsDir = RESULTS_DIR): { file: string; pairs: number; excluded: Exclusion[] } {
  const dir = path.join(resultsDir, 'hng', `pairs-${fileSha(manifest)}`);
  const file = path.join(dir, 'manifest.csv');
  const base = path.dirname(path.resolve(manifest));
  const abs = (p: string) => (p && !path.isAbsolute(p) ? path.join(base, p) : p);
  const rows = readManifest(manifest).map((r) => ({ ...r, path: abs(r.path), neutral_path: abs(r.neutral_path) }));
  const { pairs, excluded } = hngPairRows(rows);
  if (!pairs.length) throw new Error(`${manifest}: no row can be an HNG pair (${excluded.length} excluded, e.g. ${excluded[0]?.reason}); setting idfermHngManifest`);
  if (!fs.existsSync(file)) {
    writeCsv(path.join(dir, 'excluded.csv'), excluded.map((e) => ({ ...e })));
    writeManifest(file, pairs); // last: marks the folder complete
  }
  return { file, pairs: pairs.length, excluded };
}

/** face-db pairs: inputs x, frontal-neutral targets y and the guiding set g, all [N, S, S, 1] in [-1, 1]. */
export interface FaceDb {
  name: string;
  size: number;
  x: Float32Array;
  y: Float32Array;
  /** distinct guiding images */
  g: Float32Array;
  subjects: Int32Array;
  subjectCount: number;
}

const toSigned = (a: Float32Array) => Float32Array.from(a, (v) => v * 2 - 1);

/** The HNG's training pairs (see the comment at the top). */
export async function loadFaceDb(config: Config, opts: { resultsDir?: string } = {}): Promise<FaceDb> {
  const size = config.idfermImageSize;
  let set: FerSet, targets: Float32Array;
  if (config.idfermHngManifest) {
    const pairs = hngPairManifest(config.idfermHngManifest, opts.resultsDir);
    set = await loadManifestSet(pairs.file, {
      size, channels: 1, name: `hng-facedb-${size}px`, ...(opts.resultsDir ? { cacheDir: path.join(opts.resultsDir, 'cache') } : {}) });
    targets = set.neutral!;
    // IDFERM Sec. 3: inputs are flipped so that the self-occluded side is always on the right
    // (negative yaw taken as left-occluded: our reading)
    flipRows(set, set.images, set.rows.map((r) => Number(r.yaw) < 0));
  } else {
    if (config.dataset !== 'synfer') throw new Error(`IDFERM on ${config.dataset} faces needs a generator trained on real faces: set idfermHngManifest (FER_IDFERM_HNG_MANIFEST) to a Multi-PIE (or other face-db) manifest`);
    set = await loadDataset({
      ...config, dataset: 'synfer', subjects: config.idfermHngSubjects, imageSize: size, channels: 1,
      seed: deriveSeed(config.seed, 'face-db') % 100000 });
    targets = await frontalImages(set);
  }
  const per = size * size;
  const ids = [...new Set(set.subjects)].sort();
  const sub = Int32Array.from(set.subjects, (s) => ids.indexOf(s));
  // inputs: the expressive frames and (SynFER) the onset frames, each paired with its subject's frontal neutral face
  const x = set.neutral && !config.idfermHngManifest ? concat(set.images, set.neutral) : set.images;
  const y = set.neutral && !config.idfermHngManifest ? concat(targets, targets) : targets;
  const subjects = set.neutral && !config.idfermHngManifest ? concat32(sub, sub) : sub;
  const seen = new Set<string>(), g: number[] = [];
  set.rows.forEach((r, i) => { const k = String(r.frontal_path ?? r.neutral_path); if (!seen.has(k)) { seen.add(k); g.push(i); } });
  const gOut = new Float32Array(g.length * per);
  g.forEach((i, j) => gOut.set(targets.subarray(i * per, (i + 1) * per), j * per));
  return { name: set.name, size, x: toSigned(x), y: toSigned(y), g: toSigned(gOut), subjects, subjectCount: ids.length };
}

/** Mirrors (left-right, in place) the images of the flagged rows. */
function flipRows(set: FerSet, images: Float32Array, flags: boolean[]): void {
  const s = set.size, c = set.channels, row = new Float32Array(s * c);
  flags.forEach((f, i) => {
    if (!f) return;
    for (let y = 0; y < s; y++) {
      const off = (i * s + y) * s * c;
      row.set(images.subarray(off, off + s * c));
      for (let x = 0; x < s; x++) for (let k = 0; k < c; k++) images[off + x * c + k] = row[(s - 1 - x) * c + k];
    }
  });
}

export function concat(a: Float32Array, b: Float32Array) {
  const o = new Float32Array(a.length + b.length); o.set(a); o.set(b, a.length); return o;
}
export function concat32(a: Int32Array, b: Int32Array) {
  const o = new Int32Array(a.length + b.length); o.set(a); o.set(b, a.length); return o;
}

/** Each sample's ground-truth frontal neutral face (SynFER's frontal_path), [N, S, S, 1] in [0, 1]; null when the rows have none. */
export async function frontalImages(set: FerSet): Promise<Float32Array> {
  const dir = set.source ? path.dirname(set.source.manifest) : '';
  const per = set.size * set.size * set.channels;
  const out = new Float32Array(set.labels.length * per);
  const cache = new Map<string, Float32Array>();
  for (let i = 0; i < set.rows.length; i++) {
    const rel = set.rows[i].frontal_path;
    if (!rel) throw new Error(`${set.source?.manifest ?? set.name}: row ${i + 2} has no frontal_path (only SynFER has ground-truth frontal faces)`);
    const file = path.isAbsolute(String(rel)) ? String(rel) : path.join(dir, String(rel));
    let px = cache.get(file);
    if (!px) cache.set(file, (px = await readImage(file, { size: set.size, channels: set.channels })));
    out.set(px, i * per);
  }
  return out;
}

export const pick = (a: Float32Array, per: number, idx: number[]) => {
  const o = new Float32Array(idx.length * per);
  idx.forEach((s, i) => o.set(a.subarray(s * per, (s + 1) * per), i * per));
  return o;
};
export const lcg = (seed: number) => { let s = seed >>> 0; return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32); };
export function shuffledRange(n: number, r: () => number) {
  const o = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) { const j = Math.floor(r() * (i + 1)); [o[i], o[j]] = [o[j], o[i]]; }
  return o;
}
