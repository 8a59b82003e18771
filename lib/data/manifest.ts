/**
 * The manifest: one CSV row per image a dataset's protocol uses. Every reader
 * (synthetic faces, CK+, Oulu-CASIA, ...) produces it; everything downstream
 * (preprocessing, folds, pairing) consumes only it.
 *
 * Required columns: path, subject, sequence, frame, label, neutral_path.
 * `label` is the expression name in lower case; `neutral_path` is empty where
 * the dataset has no neutral reference. Any further columns are factors
 * (pose, illumination, gender, ...), kept as they are.
 * @see notebooks/01-data-and-preprocessing.ipynb
 */
import * as fs from 'fs';
import * as path from 'path';
import Papa from 'papaparse';
import { writeFileAtomic } from '../core/atomic-write';

export const REQUIRED_COLUMNS = ['path', 'subject', 'sequence', 'frame', 'label', 'neutral_path'] as const;

export interface ManifestRow {
  path: string;
  subject: string;
  sequence: string;
  frame: number;
  label: string;
  neutral_path: string;
  [factor: string]: string | number;
}

/** What a reader left out, and why: nothing is dropped silently. */
export interface Exclusion {
  file: string;
  reason: string;
}

/** Reads and validates a manifest; errors name the file and row at fault. */
export function readManifest(file: string): ManifestRow[] {
  if (!fs.existsSync(file)) throw new Error(`manifest not found: ${file}`);
  const parsed = Papa.parse<Record<string, string>>(fs.readFileSync(file, 'utf8'), {
    header: true, skipEmptyLines: true,
  });
  if (parsed.errors.length) {
    const e = parsed.errors[0];
    throw new Error(`${file}: row ${(e.row ?? 0) + 2}: ${e.message}`);
  }
  const columns = parsed.meta.fields ?? [];
  const missing = REQUIRED_COLUMNS.filter((c) => !columns.includes(c));
  if (missing.length) throw new Error(`${file}: missing column(s) ${missing.join(', ')}`);
  return parsed.data.map((raw, i) => {
    const where = `${file}: row ${i + 2}`;  // +1 header, +1 one-based
    const row: ManifestRow = { ...raw, frame: Number(raw.frame) } as ManifestRow;
    if (!raw.path) throw new Error(`${where}: empty path`);
    if (!raw.subject) throw new Error(`${where}: empty subject`);
    if (!raw.label || raw.label !== raw.label.toLowerCase()) throw new Error(`${where}: label '${raw.label}' must be a lower-case expression name`);
    if (!Number.isInteger(row.frame)) throw new Error(`${where}: frame '${raw.frame}' is not an integer`);
    for (const [k, v] of Object.entries(raw)) {
      if (!(REQUIRED_COLUMNS as readonly string[]).includes(k) && v !== '' && !isNaN(Number(v))) row[k] = Number(v);
    }
    return row;
  });
}

/**
 * Writes a manifest atomically (temp file + rename): a failure never leaves a
 * half-written CSV behind.
 */
export function writeManifest(file: string, rows: ManifestRow[]): void {
  const extra = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r)) if (!(REQUIRED_COLUMNS as readonly string[]).includes(k)) extra.add(k);
  const columns = [...REQUIRED_COLUMNS, ...[...extra].sort()];
  const csv = Papa.unparse({ fields: columns, data: rows.map((r) => columns.map((c) => r[c] ?? '')) });
  writeFileAtomic(file, csv + '\n');
}

