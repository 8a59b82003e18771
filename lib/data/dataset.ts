/**
 * Prepared datasets: a manifest read into float tensors (NHWC, [0, 1]) with
 * labels, subjects and every factor column, plus each sample's neutral
 * reference where the dataset has one.
 *
 * `loadDataset(config)` is the one entry point of the notebooks: SynFER is
 * generated on first use (under data/synfer-<settings hash>/), a real
 * dataset is read from the manifest the user built. Prepared pixels are
 * cached on disk (data/cache/<name>-<key>.bin + .json), keyed by the
 * manifest's content, the image files' sizes and dates, and the
 * preprocessing settings; a cache that does not match its header's checksum
 * or key is rebuilt, never trusted.
 * @see notebooks/01-data-and-preprocessing.ipynb
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type { Config } from '../config';
import { PROJECT_ROOT } from '../paths';
import { progressLine } from '../core/progress';
import { CKPLUS_CLASSES, classesOf, type Expression } from './classes';
import { readImage } from './image';
import { type ManifestRow, readManifest } from './manifest';
import { writeFileAtomic } from '../core/atomic-write';
import { cropBoxFromRow } from './preprocess/landmark-crop';
import { generateSynfer, resolveSynferOptions, synferHash, synferName, type SynferOptions } from './synfer/generate';

export interface FerSet {
  /** e.g. 'synfer-s60-64px-g-seed1' */
  name: string;
  size: number;
  channels: 1 | 3;
  /** [N, size, size, channels] in [0, 1] */
  images: Float32Array;
  /** [N, size, size, channels]: each sample's neutral reference; null when the dataset has none */
  neutral: Float32Array | null;
  /** index into classes */
  labels: Int32Array;
  /** expression names present, in lib/data/classes.ts CLASS_ORDER */
  classes: string[];
  /** subject per sample */
  subjects: string[];
  /** manifest row per sample, with every factor column; paths resolved to absolute */
  rows: ManifestRow[];
  /** the manifest read, and whether the pixels came from the disk cache */
  source?: { manifest: string; cache: 'hit' | 'built' | 'off' };
}

export interface LoadOptions {
  size: number;
  channels: 1 | 3;
  /** set name (default: the manifest's folder name + size + channels) */
  name?: string;
  /** 'auto': load references when every row has a neutral_path, none when no row has one; 'none': never */
  neutral?: 'auto' | 'none';
  /** crop each image to its manifest crop box (crop_* / neutral_crop_* columns) when present (default true) */
  crop?: boolean;
  /** folder of the prepared-tensor cache (default data/cache); null disables it */
  cacheDir?: string | null;
  /** show a progress line while reading images (default true) */
  progress?: boolean;
}

const CACHE_VERSION = 1;
const DATA_DIR = path.join(PROJECT_ROOT, 'data');

/** SynFER options from the configuration, then explicit overrides (e.g. a notebook's wild set). */
export function synferOptionsFrom(config: Config, overrides: Partial<SynferOptions> = {}): SynferOptions {
  const expressions = config.synferExpressions.trim()
    ? config.synferExpressions.split(',').map((e) => e.trim().toLowerCase()) as Expression[]
    : [...CKPLUS_CLASSES];
  try {
    return resolveSynferOptions({
      subjects: config.subjects, size: config.imageSize, seed: config.seed, color: config.channels === 3, expressions,
      frames: config.synferFrames, confound: config.synferConfound, subtle: config.synferSubtle, labelNoise: config.synferLabelNoise,
      corrupt: config.synferCorrupt, pose: config.synferPose, light: config.synferLight, occlusion: config.synferOcclusion,
      ...overrides,
    });
  } catch (e) {
    // Name the setting the user can change: 'synfer option labelNoise' -> FER_SYNFER_LABEL_NOISE.
    throw new Error((e as Error).message.replace(/synfer options? (\w+)/g, (_, k: string) =>
      ({ subjects: 'FER_SUBJECTS', size: 'FER_IMAGE_SIZE', seed: 'FER_SEED', color: 'FER_CHANNELS' } as Record<string, string>)[k] ??
      'FER_SYNFER_' + k.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase()));
  }
}

/**
 * The folder of a SynFER set, generated when missing (data/synfer-<hash>/).
 * @returns the manifest path
 */
export async function ensureSynfer(options: SynferOptions, root = DATA_DIR): Promise<string> {
  const dir = path.join(root, `synfer-${synferHash(options)}`);
  const manifest = path.join(dir, 'manifest.csv');
  if (!fs.existsSync(manifest)) {
    const progress = progressLine();
    try {
      const r = await generateSynfer(dir, options, { onProgress: (d, t) => progress.update(`generating ${synferName(options)}: ${d}/${t} images`) });
      progress.done(`generated ${synferName(options)}: ${r.images} images in ${r.seconds.toFixed(1)}s -> ${path.relative(PROJECT_ROOT, dir)}`);
    } catch (e) {
      if (!fs.existsSync(manifest)) throw e; // else another process finished the same set first
    }
  }
  const meta = JSON.parse(fs.readFileSync(path.join(dir, 'synfer.json'), 'utf8')) as { hash: string };
  if (meta.hash !== synferHash(options)) throw new Error(`${dir}/synfer.json describes other settings (hash ${meta.hash}); delete the folder to regenerate it`);
  return manifest;
}

/**
 * The dataset the configuration names: SynFER (generated if needed) or the
 * manifest of a real dataset (config.manifest, else <dataRoot>/manifest.csv).
 */
export async function loadDataset(config: Config, opts: { synfer?: Partial<SynferOptions>; manifest?: string } = {}): Promise<FerSet> {
  const channels = config.channels as 1 | 3;
  if (config.dataset === 'synfer') {
    const o = synferOptionsFrom(config, opts.synfer);
    const manifest = await ensureSynfer(o);
    return loadManifestSet(manifest, { size: config.imageSize, channels, name: synferName(o) });
  }
  const manifest = opts.manifest || config.manifest || (config.dataRoot ? path.join(config.dataRoot, 'manifest.csv') : '');
  if (!manifest) {
    throw new Error(`FER_DATASET=${config.dataset} needs its manifest: build it with 'npm run data -- manifest --dataset ${config.dataset} --root DIR --out FILE.csv' and set FER_MANIFEST=FILE.csv`);
  }
  const file = path.resolve(PROJECT_ROOT, manifest);
  return loadManifestSet(file, { size: config.imageSize, channels, name: `${config.dataset}-${config.imageSize}px-${channels === 1 ? 'g' : 'c'}` });
}

const fingerprints = new WeakMap<FerSet, string>();

/**
 * A short hash of what a set holds (pixels, references, labels, subjects):
 * stored runs are keyed by it, so a redrawn or edited dataset with the same
 * name never reuses results trained on the old one.
 */
export function setFingerprint(set: FerSet): string {
  let f = fingerprints.get(set);
  if (!f) {
    const h = createHash('sha256');
    for (const a of [set.images, set.neutral ?? new Float32Array(0), set.labels]) h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    h.update(JSON.stringify([set.classes, set.subjects]));
    f = h.digest('hex').slice(0, 16);
    fingerprints.set(set, f);
  }
  return f;
}

const resolveFrom = (dir: string, p: string) => (path.isAbsolute(p) ? p : path.join(dir, p));

/** Reads a manifest and its images into a FerSet, through the disk cache. */
export async function loadManifestSet(manifestFile: string, opts: LoadOptions): Promise<FerSet> {
  const { size, channels } = opts;
  if (!Number.isInteger(size) || size < 8) throw new Error(`image size ${size} must be an integer of at least 8`);
  if (channels !== 1 && channels !== 3) throw new Error(`channels ${channels} must be 1 or 3`);
  const file = path.resolve(manifestFile);
  const raw = readManifest(file);
  if (!raw.length) throw new Error(`${file}: the manifest has no rows`);
  const dir = path.dirname(file);
  const rows = raw.map((r) => ({ ...r, path: resolveFrom(dir, r.path), neutral_path: r.neutral_path ? resolveFrom(dir, r.neutral_path) : '' }));
  const withNeutral = rows.filter((r) => r.neutral_path).length;
  let hasNeutral = false;
  if (opts.neutral !== 'none' && withNeutral > 0) {
    if (withNeutral < rows.length) {
      const i = rows.findIndex((r) => !r.neutral_path);
      throw new Error(`${file}: row ${i + 2} (${raw[i].path}) has no neutral_path while ${withNeutral} other rows have one; fix the manifest or load with neutral: 'none'`);
    }
    hasNeutral = true;
  }
  const crop = opts.crop ?? true;
  const name = opts.name ?? `${path.basename(dir)}-${size}px-${channels === 1 ? 'g' : 'c'}`;
  const classes = classesOf(rows.map((r) => r.label));
  const set = (images: Float32Array, neutral: Float32Array | null, cache: 'hit' | 'built' | 'off'): FerSet => ({
    name, size, channels, images, neutral,
    labels: Int32Array.from(rows, (r) => classes.indexOf(r.label)),
    classes, subjects: rows.map((r) => r.subject), rows, source: { manifest: file, cache },
  });

  const cacheDir = opts.cacheDir === undefined ? path.join(DATA_DIR, 'cache') : opts.cacheDir;
  const files = [...new Set(rows.flatMap((r) => (hasNeutral ? [r.path, r.neutral_path] : [r.path])))];
  const key = cacheDir ? cacheKey(fs.readFileSync(file), files, { size, channels, hasNeutral, crop }) : '';
  const stem = cacheDir ? path.join(cacheDir, `${name.replace(/[^\w.-]/g, '_')}-${key.slice(0, 16)}`) : '';
  const per = size * size * channels;
  const count = rows.length * per * (hasNeutral ? 2 : 1);
  if (cacheDir) {
    const cached = readCache(stem, key, count);
    if (cached) return set(cached.subarray(0, rows.length * per), hasNeutral ? cached.subarray(rows.length * per) : null, 'hit');
  }

  // Each distinct file is read once (the 3 peaks of a sequence share one neutral frame).
  const images = new Float32Array(count);
  const jobs: { file: string; crop?: ReturnType<typeof cropBoxFromRow>; slots: number[] }[] = [];
  const byKey = new Map<string, (typeof jobs)[number]>();
  const add = (f: string, box: ReturnType<typeof cropBoxFromRow>, slot: number) => {
    const k = `${f}|${box ? JSON.stringify(box) : ''}`;
    let job = byKey.get(k);
    if (!job) byKey.set(k, (job = { file: f, crop: box, slots: [] }));
    job.slots.push(slot);
  };
  rows.forEach((r, i) => {
    add(r.path, crop ? cropBoxFromRow(r) : undefined, i);
    if (hasNeutral) add(r.neutral_path, crop ? cropBoxFromRow(r, { which: 'neutral' }) : undefined, rows.length + i);
  });
  jobs.push(...byKey.values());
  const progress = opts.progress === false ? null : progressLine();
  let done = 0, next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const job = jobs[next++];
      const pixels = await readImage(job.file, { size, channels, crop: job.crop });
      for (const slot of job.slots) images.set(pixels, slot * per);
      if (++done % 200 === 0) progress?.update(`${name}: ${done}/${jobs.length} images read`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  progress?.done(`${name}: ${jobs.length} images read (${rows.length} samples${hasNeutral ? ' with neutral references' : ''})`);
  if (cacheDir) writeCache(stem, key, images, { name, rows: rows.length, size, channels, hasNeutral });
  return set(images.subarray(0, rows.length * per), hasNeutral ? images.subarray(rows.length * per) : null, cacheDir ? 'built' : 'off');
}

/** Hash of everything the prepared pixels depend on. */
function cacheKey(manifest: Buffer, files: string[], settings: object): string {
  const h = createHash('sha256').update(`v${CACHE_VERSION}\n${JSON.stringify(settings)}\n`).update(manifest);
  for (const f of files) {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(f);
    } catch {
      throw new Error(`image not found: ${f}`);
    }
    h.update(`\n${f}\t${stat.size}\t${stat.mtimeMs}`);
  }
  return h.digest('hex');
}

interface CacheHeader {
  version: number;
  key: string;
  values: number;
  sha256: string;
  [info: string]: unknown;
}

function readCache(stem: string, key: string, values: number): Float32Array | null {
  try {
    if (!fs.existsSync(`${stem}.json`) || !fs.existsSync(`${stem}.bin`)) return null;
    const header = JSON.parse(fs.readFileSync(`${stem}.json`, 'utf8')) as CacheHeader;
    if (header.version !== CACHE_VERSION || header.key !== key || header.values !== values) return null;
    const bytes = fs.readFileSync(`${stem}.bin`);
    if (bytes.length !== values * 4) return null;
    if (createHash('sha256').update(bytes).digest('hex') !== header.sha256) return null;
    const out = new Float32Array(values);
    new Uint8Array(out.buffer).set(bytes); // copy: the file buffer may not be 4-byte aligned
    return out;
  } catch {
    return null; // unreadable or corrupt: rebuilt by the caller
  }
}

function writeCache(stem: string, key: string, values: Float32Array, info: object): void {
  const bytes = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  // Old caches of the same set (other keys) are stale: remove them.
  const dir = path.dirname(stem), prefix = path.basename(stem).slice(0, -16);
  if (fs.existsSync(dir)) {
    for (const f of fs.readdirSync(dir)) {
      if (f.startsWith(prefix) && /^[0-9a-f]{16}\.(bin|json)$/.test(f.slice(prefix.length)) && !f.startsWith(path.basename(stem))) fs.rmSync(path.join(dir, f), { force: true });
    }
  }
  // Data first, header last: a header only ever describes a complete data file.
  writeFileAtomic(`${stem}.bin`, bytes);
  const header: CacheHeader = { version: CACHE_VERSION, key, values: values.length, sha256: createHash('sha256').update(bytes).digest('hex'), ...info };
  writeFileAtomic(`${stem}.json`, JSON.stringify(header, null, 2) + '\n');
}

/** ROI mask [size, size] (1 inside the eye/brow and mouth boxes) of a SynFER row. */
export function roiMask(row: ManifestRow, size: number): Float32Array {
  const mask = new Float32Array(size * size);
  for (const region of ['eyes', 'mouth']) {
    const b = ['x0', 'y0', 'x1', 'y1'].map((k) => Number(row[`roi_${region}_${k}`]));
    if (b.some((v) => !Number.isFinite(v))) throw new Error(`${row.path}: no roi_${region}_* columns (only SynFER rows carry them)`);
    for (let y = Math.floor(b[1] * size); y < Math.ceil(b[3] * size); y++) {
      for (let x = Math.floor(b[0] * size); x < Math.ceil(b[2] * size); x++) mask[y * size + x] = 1;
    }
  }
  return mask;
}
