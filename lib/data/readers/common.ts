/**
 * What every dataset reader shares: the reader contract, sorted folder
 * listings, frame numbers, and image checks whose errors name the file.
 * Rows carry absolute paths (resolved from the dataset root), so a manifest
 * can be read from anywhere.
 * @see notebooks/01-data-and-preprocessing.ipynb
 */
import * as fs from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import type { Exclusion, ManifestRow } from '../manifest';

export interface ReaderOptions {
  /** RAF-DB: Image/aligned (default) or Image/original; SFEW: Train/ + Val/ (default 'original') or the *_Aligned_Faces folders */
  images?: 'aligned' | 'original';
  /** Oulu-CASIA illumination folder (default 'Strong', the papers' protocol) */
  illumination?: string;
  /** FER2013: folder the decoded PNG files are written to (required there) */
  cacheDir?: string;
  /** RAF-DB: read gender/race/age from Annotation/manual (default true) */
  attributes?: boolean;
  /** open every image's header to check it is readable and record its size (default true) */
  verifyImages?: boolean;
}

export interface ReaderResult {
  rows: ManifestRow[];
  excluded: Exclusion[];
}

export interface DatasetReader {
  /** id used on the command line and in config (`dataset`) */
  name: string;
  title: string;
  /** the folder layout the reader expects, for --help and error hints */
  layout: string;
  /** the image counts the papers' protocol gives, to compare with the user's copy */
  expected?: string;
  read(root: string, opts: ReaderOptions): Promise<ReaderResult>;
}

export const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.tif', '.tiff', '.webp']);

export const isImage = (name: string) => IMAGE_EXTENSIONS.has(path.extname(name).toLowerCase());

/** Throws an error naming the missing folder (and what it should hold). */
export function requireDir(dir: string, what: string): void {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`${what} not found: ${dir}`);
}

export function requireFile(file: string, what: string): void {
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) throw new Error(`${what} not found: ${file}`);
}

const collator = new Intl.Collator('en', { numeric: true });

/** Entries of a folder in natural order (frame 2 before frame 10), hidden files left out. */
export function listDir(dir: string): fs.Dirent[] {
  return fs.readdirSync(dir, { withFileTypes: true })
    .filter((e) => !e.name.startsWith('.'))
    .sort((a, b) => collator.compare(a.name, b.name));
}

/** The last run of digits in a file's stem: `S005_001_00000011.png` -> 11. */
export function trailingNumber(name: string): number | undefined {
  const m = /(\d+)\D*$/.exec(path.parse(name).name);
  return m ? Number(m[1]) : undefined;
}

/** Frames of a sequence folder in frame-number order; other files are reported, not dropped silently. */
export function sequenceFrames(dir: string, excluded: Exclusion[], ignore: (name: string) => boolean = () => false): string[] {
  const frames: { file: string; n: number }[] = [];
  for (const e of listDir(dir)) {
    const file = path.join(dir, e.name);
    if (ignore(e.name)) continue;
    const n = trailingNumber(e.name);
    if (!e.isFile() || !isImage(e.name) || n === undefined) {
      excluded.push({ file, reason: 'not a numbered frame image' });
      continue;
    }
    frames.push({ file, n });
  }
  frames.sort((a, b) => a.n - b.n);
  for (let i = 1; i < frames.length; i++) {
    if (frames[i].n === frames[i - 1].n) throw new Error(`${frames[i].file}: frame number ${frames[i].n} also used by ${frames[i - 1].file}`);
  }
  return frames.map((f) => f.file);
}

export interface ImageSize { width: number; height: number }

/** Reads every image's header (a few at a time); an unreadable image is an error naming it. */
export async function imageSizes(files: string[], concurrency = 8): Promise<Map<string, ImageSize>> {
  const sizes = new Map<string, ImageSize>();
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const file = files[next++];
      if (sizes.has(file)) continue;
      try {
        const m = await sharp(file).metadata();
        if (!m.width || !m.height) throw new Error('no image size in header');
        sizes.set(file, { width: m.width, height: m.height });
      } catch (e) {
        throw new Error(`cannot read image ${file}: ${(e as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker));
  return sizes;
}

/** Adds `width`/`height` columns from the image headers, unless verification is switched off. */
export async function addImageSizes(rows: ManifestRow[], opts: ReaderOptions): Promise<void> {
  if (opts.verifyImages === false) return;
  const files = [...new Set(rows.flatMap((r) => (r.neutral_path ? [r.path, r.neutral_path] : [r.path])))];
  const sizes = await imageSizes(files);
  for (const r of rows) {
    const s = sizes.get(r.path)!;
    r.width = s.width;
    r.height = s.height;
  }
}

/** Text lines of a label file, with the file named in any error. */
export function readLines(file: string, what: string): string[] {
  requireFile(file, what);
  return fs.readFileSync(file, 'utf8').split(/\r?\n/);
}
