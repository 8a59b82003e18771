/**
 * IDFERM stage A (paper §3, Algorithm 1 and §5.3): the identity networks and the HNG, trained once
 * on a face database disjoint from the FER subjects and cached on disk under
 * data/results/hng/<name>-<hash>/ (stage.json, curves.csv, weights.ckpt), so
 * every fold, seed, method and notebook reuses them (a config that changes
 * nothing the stage depends on reuses the stored weights).
 *
 * face-db: in the lite/smoke profiles a second SynFER population (another
 * seed, `idfermHngSubjects` subjects): inputs are its expressive frames and
 * onset frames, targets its `frontal_path` renders (the guiding set). With
 * `idfermHngManifest` (the paper profile: a Multi-PIE manifest, whose
 * neutral_path is the frontal neutral face of the same subject, session and
 * illumination) the pairs come from real faces (`hngPairRows`: the paper's
 * near-frontal poses and four expressions, every other row listed with its
 * reason), and the HNG is trained on them before any FER data is touched.
 * `hngStageStored` / `loadHngStage` read a stage without ever training one
 * (figure regeneration).
 * Identity networks (`idfermIdentityNet`): 'synthetic' (IdNet-A trained on
 * face-db subjects), 'face-api' (face-api's descriptor) or 'file'
 * (`idfermIdentityWeights`). The evaluator (Table 1, Fig. 10) is always a
 * separate network (IdNet-B: other widths and seed) with its EER threshold.
 * @see notebooks/04-idferm.ipynb
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import type { Config } from '../config';
import { loadDataset, loadManifestSet, type FerSet } from '../data/dataset';
import { readImage } from '../data/image';
import { type Exclusion, type ManifestRow, readManifest, writeManifest } from '../data/manifest';
import { writeFileAtomic } from '../core/atomic-write';
import { progressLine } from '../core/progress';
import { canonicalJson, readCsvRows, RESULTS_DIR, Row, writeCsv } from '../results/store';
import { loadCheckpoint, saveCheckpoint } from '../train/checkpoint';
import { deriveSeed } from '../train/rng';
import { buildHng, disposeHng, generate, Hng, hngStep, HngWeights, PAPER_WEIGHTS, POSITIONAL_WEIGHTS } from '../models/idferm/hng';
import { buildIdNet, faceApiIdentityNet, IdentityNet, identityNetFromModel, loadIdentityNetFile, trainIdNet } from '../models/idferm/identity-net';
import { yieldForGpu } from '../backend/gpu-yield';

/** HNG variants (the paper's ablations of Sec. 5.4 and our own): name -> changes to the weights and switches. 'w1=<v>' is the Table 1 sweep. */
export const HNG_VARIANTS: Record<string, { description: string; weights?: Partial<HngWeights>; idRef?: 'input' | 'target'; symSpace?: 'laplacian' | 'pixel'; mapping?: 'index' | 'positional' }> = {
  full: { description: 'all five losses of Algorithm 1, w1 = 0.03' },
  'no-id': { description: 'no identity loss (w1 = 0; Fig. 9/10 "without L_id")', weights: { id: 0 } },
  'ae-only': { description: 'auto-encoder with the pixel loss only, no discriminator (Fig. 9 "AE")', weights: { feat: 0, id: 0, pixel: 1, sym: 0, adv: 0 } },
  'no-feat': { description: 'no perceptual loss (the paper says the GAN collapses)', weights: { feat: 0 } },
  'no-sym': { description: 'no symmetry loss', weights: { sym: 0 } },
  'no-gan': { description: 'no adversarial loss (w4 = 0)', weights: { adv: 0 } },
  'sym-pixel': { description: 'symmetry loss in pixel space instead of Laplacian space', symSpace: 'pixel' },
  'id-target': { description: 'identity loss against the target y instead of the input x (the other reading of Sec. 3.4)', idRef: 'target' },
  positional: { description: 'the other reading of the weights Sec. 5.3 lists: mapped to the losses in the printed order', mapping: 'positional' },
};

/**
 * The variant's loss weights and switches. `pixelWeight` is w2 of the index mapping (the paper's η2 = 0.01 by
 * default; idfermHngPixelWeight in a stage); the positional mapping and 'ae-only' keep their own.
 */
export function hngVariantSettings(variant: string, pixelWeight = PAPER_WEIGHTS.pixel) {
  const sweep = /^w1=([0-9.]+)$/.exec(variant);
  const v = sweep ? { description: `identity-loss weight w1 = ${sweep[1]} (Table 1 sweep)`, weights: { id: Number(sweep[1]) } } : HNG_VARIANTS[variant];
  if (!v || (sweep && !Number.isFinite(Number(sweep[1])))) throw new Error(`unknown HNG variant '${variant}'; use one of: ${Object.keys(HNG_VARIANTS).join(', ')}, or w1=<number>`);
  const base = 'mapping' in v && v.mapping === 'positional' ? POSITIONAL_WEIGHTS : { ...PAPER_WEIGHTS, pixel: pixelWeight };
  return {
    description: v.description,
    weights: { ...base, ...(v.weights ?? {}) } as HngWeights,
    idRef: ('idRef' in v && v.idRef) || 'input',
    symSpace: ('symSpace' in v && v.symSpace) || 'laplacian',
  };
}

/** The settings the stage depends on (hashed into its folder name). */
export function hngSettings(config: Config) {
  return {
    seed: config.seed, size: config.idfermImageSize, hngSubjects: config.idfermHngSubjects, hngManifest: config.idfermHngManifest,
    // a rebuilt manifest is another face-db (the key is absent for the synthetic one, so its stored stages keep their names)
    ...(config.idfermHngManifest ? { hngManifestSha: fileSha(config.idfermHngManifest) } : {}),
    width: config.idfermHngWidth, latent: config.idfermHngLatent, batch: config.idfermHngBatch, learningRate: config.idfermHngLearningRate,
    // v2: warm-up learning rate, residual output and pixel weight as settings (v1 generators drew unseen faces farther from
    // their neutral face than the input was; none of them may be reused)
    version: 2, warmupLearningRate: config.idfermHngWarmupLearningRate, residual: config.idfermHngResidual, pixelWeight: config.idfermHngPixelWeight,
    warmupEpochs: config.idfermHngWarmupEpochs, epochs: config.idfermHngEpochs, identityNet: config.idfermIdentityNet,
    identityWeights: config.idfermIdentityWeights, idnetEpochs: config.idfermIdnetEpochs,
    synfer: [config.synferFrames, config.synferConfound, config.synferSubtle, config.synferPose, config.synferLight, config.synferOcclusion, config.synferExpressions],
  };
}

function fileSha(file: string): string {
  if (!fs.existsSync(file)) throw new Error(`HNG pair manifest not found: ${file} (setting idfermHngManifest)`);
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex').slice(0, 16);
}

const stageDir = (name: string, settings: object, root = RESULTS_DIR) =>
  path.join(root, 'hng', `${name}-${createHash('sha256').update(canonicalJson(settings)).digest('hex').slice(0, 10)}`);

/** The folder of a stage variant (its weights.ckpt is written last, after its identity networks). */
export const hngStageDir = (config: Config, variant: string, root = RESULTS_DIR) =>
  stageDir(variant.replace(/[^\w.=-]/g, '_'), { ...hngSettings(config), variant, v: hngBehaviour(variant, config.idfermHngPixelWeight) }, root);

/** What a variant changes in training, without its description (rewording one must not orphan its stored stages). */
function hngBehaviour(variant: string, pixelWeight: number) {
  const { description: _wording, ...behaviour } = hngVariantSettings(variant, pixelWeight);
  return behaviour;
}

/** The HNG variants notebook 04 trains and shows (idfermHngVariants, 'full' first). */
export const hngStudyVariants = (config: Config): string[] =>
  config.idfermHngVariants.split(',').map((v) => v.trim()).filter(Boolean);

/** Whether the HNG variant of this configuration is stored (reads nothing but the folder; trains nothing). */
export function hngStageStored(config: Config, variant = 'full', resultsDir = RESULTS_DIR): boolean {
  return fs.existsSync(path.join(hngStageDir(config, variant, resultsDir), 'weights.ckpt'));
}

/** Multi-PIE expressions the paper leaves out of HNG training (IDFERM §5.1: squint and scream). */
const DROPPED_LABELS = new Set(['squint', 'scream']);
/** Widest yaw of the paper's five near-frontal pose groups (IDFERM §5.1: −45° … +45°). */
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

/** The HNG's training pairs (see the module comment). */
export async function loadFaceDb(config: Config, opts: { resultsDir?: string } = {}): Promise<FaceDb> {
  const size = config.idfermImageSize;
  let set: FerSet, targets: Float32Array;
  if (config.idfermHngManifest) {
    const pairs = hngPairManifest(config.idfermHngManifest, opts.resultsDir);
    set = await loadManifestSet(pairs.file, { size, channels: 1, name: `hng-facedb-${size}px`, ...(opts.resultsDir ? { cacheDir: path.join(opts.resultsDir, 'cache') } : {}) });
    targets = set.neutral!;
    // IDFERM §3: inputs are flipped so that the self-occluded side is always on the right (negative yaw taken as left-occluded: our reading)
    flipRows(set, set.images, set.rows.map((r) => Number(r.yaw) < 0));
  } else {
    if (config.dataset !== 'synfer') throw new Error(`IDFERM on ${config.dataset} faces needs a generator trained on real faces: set idfermHngManifest (FER_IDFERM_HNG_MANIFEST) to a Multi-PIE (or other face-db) manifest`);
    set = await loadDataset({ ...config, dataset: 'synfer', subjects: config.idfermHngSubjects, imageSize: size, channels: 1, seed: deriveSeed(config.seed, 'face-db') % 100000 });
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

function concat(a: Float32Array, b: Float32Array) { const o = new Float32Array(a.length + b.length); o.set(a); o.set(b, a.length); return o; }
function concat32(a: Int32Array, b: Int32Array) { const o = new Int32Array(a.length + b.length); o.set(a); o.set(b, a.length); return o; }

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

const pick = (a: Float32Array, per: number, idx: number[]) => { const o = new Float32Array(idx.length * per); idx.forEach((s, i) => o.set(a.subarray(s * per, (s + 1) * per), i * per)); return o; };
const lcg = (seed: number) => { let s = seed >>> 0; return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32); };
function shuffledRange(n: number, r: () => number) { const o = Array.from({ length: n }, (_, i) => i); for (let i = n - 1; i > 0; i--) { const j = Math.floor(r() * (i + 1)); [o[i], o[j]] = [o[j], o[i]]; } return o; }

interface IdNetStage { net: tf.LayersModel; curve: Row[]; cached: boolean }

/** An IdNet trained (or loaded) on face-db subjects: 'a' for the losses, 'b' for the evaluator. */
async function idNetStage(config: Config, db: FaceDb, which: 'a' | 'b', o: StageOptions): Promise<IdNetStage | null> {
  const spec = { size: db.size, width: which === 'a' ? 16 : 12, embedding: which === 'a' ? 64 : 48, subjects: db.subjectCount, seed: deriveSeed(config.seed, 'idnet', which) };
  const settings = { ...hngSettings(config), which, spec };
  const dir = stageDir(`idnet-${which}`, settings, o.resultsDir);
  const file = path.join(dir, 'weights.ckpt');
  if (!fs.existsSync(file) && o.train === false) return null;
  const net = buildIdNet(spec, `idnet${which}`);
  if (fs.existsSync(file)) {
    await loadCheckpoint(file, { net }, {});
    return { net, curve: readCsvRows(path.join(dir, 'curves.csv')), cached: true };
  }
  // the identity nets see targets and inputs: every subject's faces, with and without expression
  const images = concat(db.x, db.g), subjects = concat32(db.subjects, Int32Array.from({ length: db.g.length / (db.size * db.size) }, (_, i) => i));
  const curve = (await trainIdNet(net, images, subjects, { size: db.size, epochs: config.idfermIdnetEpochs, batchSize: 32, seed: spec.seed }))
    .map((r) => ({ ...r, net: which }));
  fs.mkdirSync(dir, { recursive: true });
  writeFileAtomic(path.join(dir, 'stage.json'), JSON.stringify(settings, null, 2) + '\n');
  writeCsv(path.join(dir, 'curves.csv'), curve);
  await saveCheckpoint(file, { state: {}, parts: { net }, optimizers: {} });
  return { net, curve, cached: false };
}

/** Equal-error-rate threshold of an embedding on same/different-subject pairs of face-db. */
function eerThreshold(evaluator: IdentityNet, db: FaceDb, seed: number): { threshold: number; eer: number } {
  const per = db.size * db.size, n = db.subjects.length;
  const idx = shuffledRange(n, lcg(seed)).slice(0, Math.min(n, 300));
  const emb = tf.tidy(() => evaluator.embed(tf.tensor4d(pick(db.x, per, idx), [idx.length, db.size, db.size, 1])));
  const e = emb.arraySync();
  emb.dispose();
  const same: number[] = [], diff: number[] = [];
  for (let i = 0; i < idx.length; i++) for (let j = i + 1; j < idx.length; j++) {
    const d = Math.sqrt(e[i].reduce((a, v, k) => a + (v - e[j][k]) ** 2, 0));
    (db.subjects[idx[i]] === db.subjects[idx[j]] ? same : diff).push(d);
  }
  let best = { threshold: 1, eer: 1, gap: Infinity };
  for (let t = 0; t <= 2; t += 0.01) {
    const frr = same.filter((d) => d > t).length / Math.max(same.length, 1);
    const far = diff.filter((d) => d <= t).length / Math.max(diff.length, 1);
    if (Math.abs(frr - far) < best.gap) best = { threshold: t, eer: (frr + far) / 2, gap: Math.abs(frr - far) };
  }
  return { threshold: Number(best.threshold.toFixed(2)), eer: best.eer };
}

export interface HngStage {
  variant: string;
  dir: string;
  hng: Hng;
  /** per-epoch mean losses: phase 'warmup' | 'full' */
  curves: Row[];
  identity: IdentityNet;
  evaluator: IdentityNet;
  /** the evaluator's EER threshold on face-db pairs (the 1.242 of the paper's FaceNet) */
  threshold: number;
  eer: number;
  idnetCurves: Row[];
  cached: boolean;
  seconds: number;
  faceDb: string;
}

interface StageOptions {
  /** null: no progress line */
  progress?: null;
  /** results root (default data/results); stages live in <root>/hng/ */
  resultsDir?: string;
  /** false: load a stored stage only, never train (hngStage then returns null when anything is missing) */
  train?: boolean;
}

async function identityFor(config: Config, db: FaceDb, o: StageOptions): Promise<{ net: IdentityNet; curve: Row[] } | null> {
  if (config.idfermIdentityNet === 'face-api') return { net: await faceApiIdentityNet(), curve: [] };
  if (config.idfermIdentityNet === 'file') {
    if (!config.idfermIdentityWeights) throw new Error('idfermIdentityNet=file needs idfermIdentityWeights (a TF.js model.json)');
    return { net: await loadIdentityNetFile(config.idfermIdentityWeights), curve: [] };
  }
  const a = await idNetStage(config, db, 'a', o);
  return a && { net: identityNetFromModel(a.net, 'synthetic', `IdNet-A: a small CNN trained to tell ${db.subjectCount} synthetic face-db subjects apart (stand-in for VGG-Face and Light CNN)`), curve: a.curve };
}

/** A stored HNG variant with its identity networks, or null when any of it is missing; never trains. */
export async function loadHngStage(config: Config, variant = 'full', opts: Omit<StageOptions, 'train'> = {}): Promise<HngStage | null> {
  if (!hngStageStored(config, variant, opts.resultsDir)) return null;
  return hngStage(config, variant, { ...opts, progress: null, train: false });
}

/** Trains (or loads) the HNG variant; the warm-up phase is shared by every variant but 'ae-only'. */
export async function hngStage(config: Config, variant: string, opts: StageOptions & { train: false }): Promise<HngStage | null>;
export async function hngStage(config: Config, variant?: string, opts?: StageOptions): Promise<HngStage>;
export async function hngStage(config: Config, variant = 'full', opts: StageOptions = {}): Promise<HngStage | null> {
  const t0 = Date.now();
  const v = hngVariantSettings(variant, config.idfermHngPixelWeight);
  const root = opts.resultsDir ?? RESULTS_DIR;
  const dir = hngStageDir(config, variant, root);
  const file = path.join(dir, 'weights.ckpt');
  if (opts.train === false && !fs.existsSync(file)) return null;
  const progress = opts.progress === null ? null : progressLine();
  const db = await loadFaceDb(config, opts);
  const id = await identityFor(config, db, opts);
  const b = await idNetStage(config, db, 'b', opts);
  if (!id || !b) { id?.net.dispose(); b?.net.dispose(); return null; }
  const { net: identity, curve: idCurve } = id;
  const evaluator = identityNetFromModel(b.net, 'synthetic', 'IdNet-B (evaluator)');
  const { threshold, eer } = eerThreshold(evaluator, db, deriveSeed(config.seed, 'eer'));
  const arch = { size: db.size, width: config.idfermHngWidth, latent: config.idfermHngLatent, seed: deriveSeed(config.seed, 'hng'), residual: config.idfermHngResidual };
  const settings = hngSettings(config);
  const aeOnly = variant === 'ae-only';
  const warmDir = stageDir(aeOnly ? 'warmup-ae' : 'warmup', settings, root);
  const hng = buildHng(arch);
  const parts = { enc: hng.enc, dec: hng.dec, dis: hng.dis };
  const result = (curves: Row[], cached: boolean): HngStage => ({
    variant, dir, hng, curves, identity, evaluator, threshold, eer, idnetCurves: [...idCurve, ...b.curve], cached, seconds: (Date.now() - t0) / 1000, faceDb: db.name,
  });
  if (fs.existsSync(file)) {
    await loadCheckpoint(file, parts, {});
    return result(readCsvRows(path.join(dir, 'curves.csv')), true);
  }
  const per = db.size * db.size, n = db.subjects.length, gN = db.g.length / per;
  const runPhase = async (phase: string, epochs: number, w: HngWeights, seed: number, startEpoch: number): Promise<Row[]> => {
    const lr = phase === 'warmup' ? config.idfermHngWarmupLearningRate : config.idfermHngLearningRate;
    const gen = tf.train.adam(lr, 0.5, 0.999, 1e-8), dis = tf.train.adam(lr, 0.5, 0.999, 1e-8);
    const rows: Row[] = [];
    for (let e = 1; e <= epochs; e++) {
      const r = lcg(deriveSeed(seed, e));
      const order = shuffledRange(n, r);
      const sums: Record<string, number> = {};
      let steps = 0;
      for (let s = 0; s + config.idfermHngBatch <= n || (s === 0 && n > 0); s += config.idfermHngBatch) {
        const idx = order.slice(s, s + config.idfermHngBatch);
        const gIdx = idx.map(() => Math.floor(r() * gN));
        const batch = tf.tidy(() => ({
          x: tf.tensor4d(pick(db.x, per, idx), [idx.length, db.size, db.size, 1]),
          y: tf.tensor4d(pick(db.y, per, idx), [idx.length, db.size, db.size, 1]),
          g: tf.tensor4d(pick(db.g, per, gIdx), [idx.length, db.size, db.size, 1]),
        }));
        const l = hngStep(hng, identity, batch, { weights: w, idRef: v.idRef, symSpace: v.symSpace }, gen, dis);
        tf.dispose([batch.x, batch.y, batch.g]);
        for (const [k, val] of Object.entries(l)) if (Number.isFinite(val)) sums[k] = (sums[k] ?? 0) + val;
        steps++;
        progress?.update(`HNG ${variant} · ${phase} epoch ${e}/${epochs} · step ${steps} · generator loss ${(sums.gen / steps).toFixed(4)}`);
        await yieldForGpu();
      }
      const row: Row = { variant, phase, epoch: startEpoch + e };
      for (const k of ['gen', 'feat', 'id', 'pixel', 'sym', 'adv', 'dis']) row[k] = sums[k] === undefined ? null : sums[k] / steps;
      rows.push(row);
    }
    gen.dispose(); dis.dispose();
    return rows;
  };
  // phase 1: perceptual auto-encoder warm-up (L_feat + w2 L_pixel; our choice, against early collapse), shared through its own cache
  const warmWeights: HngWeights = aeOnly ? v.weights : { feat: v.weights.feat, id: 0, pixel: v.weights.pixel, sym: 0, adv: 0 };
  let warmCurves: Row[];
  const warmFile = path.join(warmDir, 'weights.ckpt');
  if (fs.existsSync(warmFile) && (v.weights.feat > 0 || aeOnly)) {
    await loadCheckpoint(warmFile, parts, {});
    warmCurves = readCsvRows(path.join(warmDir, 'curves.csv')).map((r) => ({ ...r, variant }));
  } else {
    warmCurves = await runPhase('warmup', config.idfermHngWarmupEpochs, warmWeights, deriveSeed(config.seed, 'hng-warmup'), 0);
    if (v.weights.feat > 0 || aeOnly) {
      fs.mkdirSync(warmDir, { recursive: true });
      writeCsv(path.join(warmDir, 'curves.csv'), warmCurves);
      await saveCheckpoint(warmFile, { state: {}, parts, optimizers: {} });
    }
  }
  // phase 2: the full objective of the variant
  const full = await runPhase('full', config.idfermHngEpochs, v.weights, deriveSeed(config.seed, 'hng-full', variant), config.idfermHngWarmupEpochs);
  const curves = [...warmCurves, ...full];
  fs.mkdirSync(dir, { recursive: true });
  writeFileAtomic(path.join(dir, 'stage.json'), JSON.stringify({ ...settings, variant, ...v, identityNet: identity.description }, null, 2) + '\n');
  writeCsv(path.join(dir, 'curves.csv'), curves);
  await saveCheckpoint(file, { state: {}, parts, optimizers: {} }); // last: marks the stage complete
  progress?.done(`HNG ${variant}: ${curves.length} epochs in ${((Date.now() - t0) / 1000).toFixed(1)} s -> ${path.relative(RESULTS_DIR, dir)}`);
  return result(curves, false);
}

/** x* = HNG(x) for every sample of a set: [N, S, S, 1] in [0, 1]. */
export function generateReferences(stage: HngStage, set: FerSet, batchSize = 64): Float32Array {
  if (set.channels !== 1 || set.size !== stage.hng.arch.size) throw new Error(`set '${set.name}' is ${set.size}px x${set.channels}; the HNG was trained on ${stage.hng.arch.size}px grey faces (use idfermConfig)`);
  const per = set.size * set.size, n = set.labels.length;
  const out = new Float32Array(n * per);
  for (let i = 0; i < n; i += batchSize) {
    const m = Math.min(batchSize, n - i);
    const y = tf.tidy(() => {
      const x = tf.sub(tf.mul(tf.tensor4d(set.images.subarray(i * per, (i + m) * per), [m, set.size, set.size, 1]), 2), 1) as tf.Tensor4D;
      return tf.div(tf.add(generate(stage.hng, x), 1), 2);
    });
    out.set(y.dataSync() as Float32Array, i * per);
    y.dispose();
  }
  return out;
}

export interface HngEvaluation {
  variant: string;
  /** generated faces the evaluator places farther than its threshold from their input */
  identityErrorPct: number;
  idDistances: number[];
  threshold: number;
  /** mean |x* − frontal truth| and |x − frontal truth| (SynFER only) */
  l1ToOracle: number | null;
  l1InputToOracle: number | null;
  /** % of faces whose x* is closer (mean |·|) to their frontal truth than their input x is (SynFER only) */
  closerPct: number | null;
}

/** Identity errors and neutralisation of a stage on a FER set (Table 1 / Fig. 10 analogue, and our neutralisation check). */
export async function evaluateHng(stage: HngStage, set: FerSet, refs = generateReferences(stage, set)): Promise<HngEvaluation> {
  const per = set.size * set.size, n = set.labels.length;
  const dists: number[] = [];
  for (let i = 0; i < n; i += 64) {
    const m = Math.min(64, n - i);
    const d = tf.tidy(() => {
      const x = tf.sub(tf.mul(tf.tensor4d(set.images.subarray(i * per, (i + m) * per), [m, set.size, set.size, 1]), 2), 1) as tf.Tensor4D;
      const g = tf.sub(tf.mul(tf.tensor4d(refs.subarray(i * per, (i + m) * per), [m, set.size, set.size, 1]), 2), 1) as tf.Tensor4D;
      return tf.norm(tf.sub(stage.evaluator.embed(x), stage.evaluator.embed(g)), 2, 1);
    });
    dists.push(...(d.dataSync() as Float32Array));
    d.dispose();
  }
  let l1ToOracle: number | null = null, l1InputToOracle: number | null = null, closerPct: number | null = null;
  if (set.rows.every((r) => r.frontal_path)) {
    const oracle = await frontalImages(set);
    let a = 0, b = 0, closer = 0;
    for (let i = 0; i < n; i++) {
      let ai = 0, bi = 0;
      for (let k = i * per; k < (i + 1) * per; k++) { ai += Math.abs(refs[k] - oracle[k]); bi += Math.abs(set.images[k] - oracle[k]); }
      a += ai; b += bi; if (ai < bi) closer++;
    }
    l1ToOracle = a / oracle.length; l1InputToOracle = b / oracle.length; closerPct = (100 * closer) / n;
  }
  return {
    variant: stage.variant, identityErrorPct: (100 * dists.filter((d) => d > stage.threshold).length) / n, idDistances: dists, threshold: stage.threshold, l1ToOracle, l1InputToOracle, closerPct,
  };
}

export function disposeHngStage(stage: HngStage): void {
  disposeHng(stage.hng);
  stage.identity.dispose();
  stage.evaluator.dispose();
}
