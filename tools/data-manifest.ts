/**
 * `npm run data -- manifest --dataset ckplus --root DIR --out FILE.csv`:
 * reads a real dataset in its published layout (lib/data/readers), writes
 * the manifest atomically, writes what was left out (and why) to
 * FILE.excluded.csv, and prints counts per label and the exclusion summary.
 * @see notebooks/01-data-and-preprocessing.ipynb
 */
import * as path from 'path';
import { parseArgs } from 'util';
import Papa from 'papaparse';
import { writeManifest, type Exclusion, type ManifestRow } from '../lib/data/manifest';
import { writeFileAtomic } from '../lib/core/atomic-write';
import { READERS, buildManifest, type ReaderOptions } from '../lib/data/readers';

const HELP = `usage: npm run data -- manifest --dataset NAME --root DIR --out FILE.csv [options]

Reads a dataset folder in its published layout and writes the manifest CSV
(one row per image the papers' protocol uses; absolute paths), plus
FILE.excluded.csv listing everything left out and why.

  --dataset NAME        one of the datasets below (required)
  --root DIR            the dataset folder (for csv: the CSV file) (required)
  --out FILE.csv        manifest to write (required); replaced atomically
  --images KIND         aligned|original: RAF-DB Image/aligned (default) or Image/original;
                        SFEW Train/ + Val/ (default original) or *_Aligned_Faces
  --illumination NAME   Oulu-CASIA lighting folder (default Strong)
  --no-attributes       RAF-DB: skip gender/race/age (Annotation/manual)
  --skip-verify         do not open every image header (faster; Multi-PIE skips by default)
  --verify              open every image header, also for Multi-PIE
  -h, --help            show this help

datasets and expected layouts (under --root):
${READERS.map((r) => `  ${r.name.padEnd(9)} ${r.title}\n            ${r.layout}${r.expected ? `\n            protocol: ${r.expected}` : ''}`).join('\n')}

fer2013 writes its decoded images to FILE-images/ next to the manifest.`;

/** How often each value occurs, sorted by value. */
function counts(values: string[]): [string, number][] {
  const n = new Map<string, number>();
  for (const v of values) n.set(v, (n.get(v) ?? 0) + 1);
  return [...n.entries()].sort(([a], [b]) => a.localeCompare(b));
}

/** The printed summary: images, subjects, per-label (and per-split) counts, exclusions by reason. */
export function summarise(dataset: string, rows: ManifestRow[], excluded: Exclusion[]): string {
  const lines = [`${dataset}: ${rows.length} images, ${new Set(rows.map((r) => r.subject)).size} subjects, ${new Set(rows.map((r) => r.sequence)).size} sequences`];
  const splits = rows.some((r) => r.split !== undefined) ? counts(rows.map((r) => String(r.split))).map(([s]) => s) : [''];
  for (const split of splits) {
    const part = split ? rows.filter((r) => r.split === split) : rows;
    lines.push(`  ${split ? `${split} ` : ''}per label: ${counts(part.map((r) => r.label)).map(([l, n]) => `${l} ${n}`).join(', ')}`);
  }
  const reasons = counts(excluded.map((e) => e.reason));
  lines.push(excluded.length ? `  excluded ${excluded.length}: ${reasons.map(([r, n]) => `${n} ${r}`).join('; ')}` : '  excluded: none');
  return lines.join('\n');
}

export async function main(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true, strict: true,
    options: {
      dataset: { type: 'string' }, root: { type: 'string' }, out: { type: 'string' },
      images: { type: 'string' }, illumination: { type: 'string' },
      'no-attributes': { type: 'boolean', default: false }, 'skip-verify': { type: 'boolean', default: false },
      verify: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) { console.log(HELP); return; }
  if (positionals.length) throw new Error(`unexpected argument '${positionals[0]}' (options start with --)`);
  for (const name of ['dataset', 'root', 'out'] as const) {
    if (!values[name]) throw new Error(`--${name} is required (see --help)`);
  }
  if (values.images !== undefined && values.images !== 'aligned' && values.images !== 'original') {
    throw new Error(`--images '${values.images}' must be aligned or original`);
  }
  if (values.verify && values['skip-verify']) throw new Error('--verify and --skip-verify contradict each other');
  const out = path.resolve(values.out!);
  if (!out.endsWith('.csv')) throw new Error(`--out ${values.out} must name a .csv file`);
  const base = out.slice(0, -'.csv'.length);
  const opts: ReaderOptions = {
    images: values.images as ReaderOptions['images'],
    illumination: values.illumination,
    attributes: !values['no-attributes'],
    verifyImages: values.verify ? true : values['skip-verify'] ? false : undefined,
    cacheDir: `${base}-images`,
  };
  const { rows, excluded } = await buildManifest(values.dataset!, values.root!, opts);
  writeManifest(out, rows);
  const excludedFile = `${base}.excluded.csv`;
  writeFileAtomic(excludedFile, Papa.unparse({ fields: ['file', 'reason'], data: excluded.map((e) => [e.file, e.reason]) }, { newline: '\n' }) + '\n');
  console.log(summarise(values.dataset!, rows, excluded));
  const expected = READERS.find((r) => r.name === values.dataset)?.expected;
  if (expected) console.log(`  the papers' protocol: ${expected}`);
  console.log(`wrote ${out}\nwrote ${excludedFile}`);
}
