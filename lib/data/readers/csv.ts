/**
 * Generic CSV reader: any CSV with the manifest's required columns (path,
 * subject, sequence, frame, label, neutral_path), checked by readManifest,
 * for datasets without a reader of their own or subsets prepared by hand.
 * The dataset root is the CSV file. Relative paths are taken from the CSV's
 * folder and written back absolute; every image (and neutral reference)
 * must exist. Other columns pass through as factors.
 * @see notebooks/01-data-and-preprocessing.ipynb
 */
import * as fs from 'fs';
import * as path from 'path';
import { readManifest } from '../manifest';
import { addImageSizes, requireFile, type DatasetReader } from './common';

export const csv: DatasetReader = {
  name: 'csv',
  title: 'generic manifest CSV',
  layout: 'a CSV file (the root) with columns path, subject, sequence, frame, label, neutral_path [, factors...]; paths relative to the CSV or absolute',
  async read(root, opts) {
    requireFile(root, 'manifest CSV');
    const dir = path.dirname(root);
    const rows = readManifest(root);
    rows.forEach((r, i) => {
      for (const key of ['path', 'neutral_path'] as const) {
        if (!r[key]) continue;
        r[key] = path.resolve(dir, r[key]);
        if (!fs.existsSync(r[key])) throw new Error(`${root}: row ${i + 2}: ${key} not found: ${r[key]}`);
      }
    });
    await addImageSizes(rows, opts);
    return { rows, excluded: [] };
  },
};
