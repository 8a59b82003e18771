/**
 * Dataset readers: each turns one real dataset, in its published folder
 * layout, into the manifest (lib/data/manifest.ts) plus a list of what it
 * left out and why. Paths in the rows are absolute. Labels use the project's
 * vocabulary (./labels.ts). Usage:
 *
 *   const { rows, excluded } = await buildManifest('ckplus', '/data/CK+');
 *
 * or from a terminal: `npm run data -- manifest --dataset ckplus --root DIR --out FILE.csv`.
 * @see notebooks/01-data-and-preprocessing.ipynb
 */
import * as path from 'path';
import { ckplus } from './ckplus';
import { oulu } from './oulu';
import { mmi } from './mmi';
import { rafdb } from './rafdb';
import { sfew } from './sfew';
import { fer2013 } from './fer2013';
import { multipie } from './multipie';
import { csv } from './csv';
import type { DatasetReader, ReaderOptions, ReaderResult } from './common';

export type { DatasetReader, ReaderOptions, ReaderResult } from './common';
export { expressionName } from './labels';

export const READERS: readonly DatasetReader[] = [ckplus, oulu, mmi, rafdb, sfew, fer2013, multipie, csv];

/** Dataset ids buildManifest accepts (the `dataset` config values other than the synthetic set). */
export const SUPPORTED_DATASETS: readonly string[] = READERS.map((r) => r.name);

export function datasetReader(dataset: string): DatasetReader {
  const reader = READERS.find((r) => r.name === dataset);
  if (!reader) throw new Error(`unknown dataset '${dataset}'; supported: ${SUPPORTED_DATASETS.join(', ')}`);
  return reader;
}

/**
 * Reads a dataset folder into manifest rows (absolute paths) and exclusions.
 * Missing, unreadable or inconsistent files throw an error naming the file.
 */
export async function buildManifest(dataset: string, root: string, opts: ReaderOptions = {}): Promise<ReaderResult> {
  const reader = datasetReader(dataset);
  if (!root) throw new Error(`buildManifest('${dataset}'): no dataset root given (expected layout: ${reader.layout})`);
  const result = await reader.read(path.resolve(root), opts);
  if (result.rows.length === 0) {
    throw new Error(`${path.resolve(root)}: no ${reader.title} images found (expected layout: ${reader.layout}; ${result.excluded.length} entries excluded)`);
  }
  return result;
}
