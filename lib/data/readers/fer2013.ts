/**
 * FER2013 reader. Layout of the published file: `fer2013.csv` (the dataset
 * root is its folder, or the file itself) with columns emotion, pixels, Usage:
 *
 *   emotion  0-6: anger, disgust, fear, happy, sadness, surprise, neutral
 *   pixels   48 x 48 = 2,304 grey values 0-255, space-separated, row-major
 *   Usage    Training | PublicTest | PrivateTest  -> split train | val | test
 *
 * The images are decoded to PNG files in `cacheDir` (the CLI puts it next to
 * the manifest), named fer2013_<row>.png after the CSV's data row. A stamp
 * (source.json: the CSV's size and time) lets a rerun reuse them; a changed
 * CSV rewrites them. Images are single faces without identities: every image
 * is its own subject, with no neutral reference.
 * Extra columns: split, width/height (48).
 * @see notebooks/01-data-and-preprocessing.ipynb
 */
import * as fs from 'fs';
import * as path from 'path';
import * as readline from 'readline';
import Papa from 'papaparse';
import sharp from 'sharp';
import { type ManifestRow } from '../manifest';
import { writeFileAtomic } from '../../core/atomic-write';
import { requireFile, type DatasetReader } from './common';

const LABELS = ['anger', 'disgust', 'fear', 'happy', 'sadness', 'surprise', 'neutral'];
const SPLITS: Record<string, string> = { Training: 'train', PublicTest: 'val', PrivateTest: 'test' };
const SIDE = 48;

interface Stamp { size: number; mtimeMs: number }

/** One data line's label, split and pixels; errors name the file and line. */
function parseRow(fields: string[], header: string[], where: string): { label: string; split: string; pixels: number[] } {
  if (fields.length !== header.length) throw new Error(`${where}: ${fields.length} fields, expected ${header.length}`);
  const get = (c: string) => fields[header.indexOf(c)].trim();
  const code = Number(get('emotion'));
  if (!Number.isInteger(code) || code < 0 || code >= LABELS.length) throw new Error(`${where}: emotion '${get('emotion')}' is out of range (integers 0-6)`);
  const split = SPLITS[get('Usage')];
  if (!split) throw new Error(`${where}: Usage '${get('Usage')}' is not Training, PublicTest or PrivateTest`);
  const pixels = get('pixels').split(/\s+/).map(Number);
  if (pixels.length !== SIDE * SIDE || pixels.some((v) => !Number.isInteger(v) || v < 0 || v > 255)) {
    throw new Error(`${where}: pixels must be ${SIDE * SIDE} integers 0-255 (got ${pixels.length} values)`);
  }
  return { label: LABELS[code], split, pixels };
}

const writePng = async (file: string, pixels: number[]) => writeFileAtomic(file,
  await sharp(Buffer.from(pixels), { raw: { width: SIDE, height: SIDE, channels: 1 } }).toColourspace('b-w').png().toBuffer());

export const fer2013: DatasetReader = {
  name: 'fer2013',
  title: 'FER2013',
  layout: 'fer2013.csv with columns emotion (0-6), pixels (2304 grey values), Usage (Training/PublicTest/PrivateTest)',
  expected: '35,887 images: 28,709 Training, 3,589 PublicTest, 3,589 PrivateTest',
  async read(root, opts) {
    const csv = fs.existsSync(root) && fs.statSync(root).isFile() ? root : path.join(root, 'fer2013.csv');
    requireFile(csv, 'FER2013 file (fer2013.csv)');
    if (!opts.cacheDir) throw new Error('fer2013 needs a cacheDir for its decoded PNG files (the CLI uses <manifest>-images/)');
    const cacheDir = path.resolve(opts.cacheDir);
    fs.mkdirSync(cacheDir, { recursive: true });
    const stat = fs.statSync(csv);
    const stampFile = path.join(cacheDir, 'source.json');
    const stamp: Stamp = { size: stat.size, mtimeMs: stat.mtimeMs };
    const old = fs.existsSync(stampFile) ? (JSON.parse(fs.readFileSync(stampFile, 'utf8')) as Stamp) : undefined;
    const reuse = old !== undefined && old.size === stamp.size && old.mtimeMs === stamp.mtimeMs;
    if (old && !reuse) fs.rmSync(stampFile);  // the old images no longer match: stale until all are rewritten

    const rows: ManifestRow[] = [];
    let header: string[] | undefined;
    let lineNo = 0;
    let pending: Promise<void>[] = [];
    const lines = readline.createInterface({ input: fs.createReadStream(csv), crlfDelay: Infinity });
    try {
      for await (const line of lines) {
        lineNo++;
        if (line.trim() === '') continue;
        const fields = Papa.parse<string[]>(line).data[0] ?? [];
        if (!header) {
          header = fields.map((f) => f.trim());
          const missing = ['emotion', 'pixels', 'Usage'].filter((c) => !header!.includes(c));
          if (missing.length) throw new Error(`${csv}: missing column(s) ${missing.join(', ')}`);
          continue;
        }
        const { label, split, pixels } = parseRow(fields, header, `${csv}: line ${lineNo}`);
        const name = `fer2013_${String(rows.length + 1).padStart(5, '0')}`;
        const png = path.join(cacheDir, `${name}.png`);
        if (!reuse || !fs.existsSync(png)) pending.push(writePng(png, pixels));
        if (pending.length >= 64) { await Promise.all(pending); pending = []; }
        rows.push({ path: png, subject: name, sequence: name, frame: 0, label, neutral_path: '', split, width: SIDE, height: SIDE });
      }
      await Promise.all(pending);
    } catch (e) {
      await Promise.allSettled(pending);  // let started writes finish before reporting the error
      lines.close();
      throw e;
    }
    writeFileAtomic(stampFile, JSON.stringify({ csv, ...stamp }, null, 1) + '\n');
    return { rows, excluded: [] };
  },
};
