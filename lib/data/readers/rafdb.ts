/**
 * RAF-DB (basic emotion set) reader. Layout of the published `basic/` folder,
 * the dataset root:
 *
 *   EmoLabel/list_patition_label.txt       lines "train_00001.jpg 5" (file name, label 1-7)
 *   Image/aligned/train_00001_aligned.jpg  the dataset's own 100x100 aligned faces (default)
 *   Image/original/train_00001.jpg         the original pictures (`images: 'original'`)
 *   Annotation/manual/train_00001_manu_attri.txt
 *                                          5 landmark lines "x y", then gender, race, age codes
 *
 * Labels 1-7: surprise, fear, disgust, happiness (written 'happy'), sadness, anger, neutral.
 * Protocol (SPNDL Sec. 4.1, DDL Sec. 4.1): the official split, 12,271 train /
 * 3,068 test; RAF-DB has no neutral reference, so neutral_path is empty and
 * every image is its own subject (RAF-DB publishes no identities).
 * Extra columns: split (train|test), gender (male|female|unsure), race
 * (caucasian|african-american|asian), age (0-3|4-19|20-39|40-69|70+) for
 * DDL's disturbance model, width/height.
 * @see notebooks/01-data-and-preprocessing.ipynb
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Exclusion, ManifestRow } from '../manifest';
import { addImageSizes, readLines, requireDir, type DatasetReader } from './common';

const LABELS = ['surprise', 'fear', 'disgust', 'happy', 'sadness', 'anger', 'neutral'];
const ATTRIBUTES = {
  gender: ['male', 'female', 'unsure'],
  race: ['caucasian', 'african-american', 'asian'],
  age: ['0-3', '4-19', '20-39', '40-69', '70+'],
} as const;

/** Gender, race and age from a manual annotation file (its lines 6-8). */
export function readRafAttributes(file: string): Record<keyof typeof ATTRIBUTES, string> {
  const lines = readLines(file, 'RAF-DB annotation file').map((l) => l.trim()).filter((l) => l !== '');
  if (lines.length !== 8) throw new Error(`${file}: expected 5 landmark lines + gender, race, age (8 lines), got ${lines.length}`);
  const out = {} as Record<keyof typeof ATTRIBUTES, string>;
  (Object.keys(ATTRIBUTES) as (keyof typeof ATTRIBUTES)[]).forEach((name, k) => {
    const raw = lines[5 + k];
    const names = ATTRIBUTES[name];
    const code = Number(raw);
    if (!Number.isInteger(code) || code < 0 || code >= names.length) {
      throw new Error(`${file}: line ${6 + k}: ${name} code '${raw}' is not an integer 0-${names.length - 1}`);
    }
    out[name] = names[code];
  });
  return out;
}

export const rafdb: DatasetReader = {
  name: 'rafdb',
  title: 'RAF-DB (basic emotions)',
  layout: 'EmoLabel/list_patition_label.txt ("train_00001.jpg 5", labels 1-7), Image/aligned/*_aligned.jpg or Image/original/*.jpg, Annotation/manual/*_manu_attri.txt',
  expected: '12,271 train / 3,068 test images (train: surprise 1290, fear 281, disgust 717, happy 4772, sadness 1982, anger 705, neutral 2524)',
  async read(root, opts) {
    const aligned = (opts.images ?? 'aligned') === 'aligned';
    const labelFile = path.join(root, 'EmoLabel', 'list_patition_label.txt');
    const imageDir = path.join(root, 'Image', aligned ? 'aligned' : 'original');
    const annotationDir = path.join(root, 'Annotation', 'manual');
    requireDir(imageDir, `RAF-DB ${aligned ? 'aligned' : 'original'} image folder`);
    const attributes = opts.attributes ?? true;
    if (attributes) requireDir(annotationDir, 'RAF-DB manual annotation folder (or read without attributes)');
    const rows: ManifestRow[] = [];
    const excluded: Exclusion[] = [];
    const seen = new Set<string>();
    readLines(labelFile, 'RAF-DB label list').forEach((line, i) => {
      if (line.trim() === '') return;
      const where = `${labelFile}: line ${i + 1}`;
      const m = /^\s*((train|test)_\d+)\.jpg\s+(\S+)\s*$/.exec(line);
      if (!m) throw new Error(`${where}: expected "<train|test>_NNNN.jpg <label 1-7>", got '${line.trim()}'`);
      const [, stem, split, rawLabel] = m;
      const code = Number(rawLabel);
      if (!Number.isInteger(code) || code < 1 || code > LABELS.length) throw new Error(`${where}: label '${rawLabel}' is out of range (integers 1-${LABELS.length})`);
      if (seen.has(stem)) throw new Error(`${where}: ${stem}.jpg is listed twice`);
      seen.add(stem);
      const image = path.join(imageDir, aligned ? `${stem}_aligned.jpg` : `${stem}.jpg`);
      if (!fs.existsSync(image)) throw new Error(`${where}: image not found: ${image}`);
      rows.push({
        path: image, subject: stem, sequence: stem, frame: 0, label: LABELS[code - 1], neutral_path: '', split,
        ...(attributes ? readRafAttributes(path.join(annotationDir, `${stem}_manu_attri.txt`)) : {}),
      });
    });
    for (const e of fs.readdirSync(imageDir)) {
      const stem = path.parse(e).name.replace(/_aligned$/, '');
      if (!e.startsWith('.') && !seen.has(stem)) excluded.push({ file: path.join(imageDir, e), reason: 'not in list_patition_label.txt' });
    }
    await addImageSizes(rows, opts);
    return { rows, excluded };
  },
};
