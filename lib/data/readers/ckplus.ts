/**
 * CK+ (Extended Cohn-Kanade) reader. Layout of the published archives, under
 * the dataset root:
 *
 *   cohn-kanade-images/S005/001/S005_001_00000001.png ...   one folder per sequence
 *   Emotion/S005/001/S005_001_00000011_emotion.txt          one float code, 0-7
 *   Landmarks/S005/001/S005_001_00000001_landmarks.txt      68 lines "x y"
 *
 * Emotion codes: 0 neutral, 1 anger, 2 contempt, 3 disgust, 4 fear, 5 happy,
 * 6 sadness, 7 surprise. Protocol (SPNDL Sec. 4.1, GNDL Sec. 4.1, DDL Sec. 4.1):
 * the 327 labelled sequences, the last three (peak) frames of each, each
 * paired with its sequence's first (neutral) frame -> 981 rows. Sequences
 * without an emotion file are excluded ('no emotion label'), as the protocol
 * says, and counted in the summary.
 *
 * Extra columns: peak (1-3, 3 = last frame), the landmark bounds of the frame
 * (crop_left/top/width/height, whole pixels inside the image) and of its
 * neutral frame (neutral_crop_*), width/height of the frames.
 * @see notebooks/01-data-and-preprocessing.ipynb
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Exclusion, ManifestRow } from '../manifest';
import { clampBox, landmarkBounds, type Box, type Point } from '../preprocess/landmark-crop';
import { CLASS_ORDER } from '../classes';
import { imageSizes, listDir, readLines, requireDir, sequenceFrames, trailingNumber, type DatasetReader } from './common';

const PEAKS = 3;

/** Reads a CK+ landmark file: exactly 68 lines of two numbers. */
export function readLandmarks68(file: string): Point[] {
  const lines = readLines(file, 'landmark file').map((l) => l.trim());
  const points: Point[] = [];
  lines.forEach((line, i) => {
    if (line === '') return;
    const v = line.split(/\s+/).map(Number);
    if (v.length !== 2 || !v.every(Number.isFinite)) throw new Error(`${file}: line ${i + 1}: expected "x y", got '${line}'`);
    points.push({ x: v[0], y: v[1] });
  });
  if (points.length !== 68) throw new Error(`${file}: expected 68 landmark points, got ${points.length}`);
  return points;
}

/** Reads a CK+ emotion file: one number, an integer code 0-7. */
export function readEmotionCode(file: string): number {
  const lines = readLines(file, 'emotion file').map((l) => l.trim()).filter((l) => l !== '');
  if (lines.length !== 1) throw new Error(`${file}: expected one emotion code, got ${lines.length} non-empty lines`);
  const code = Number(lines[0]);
  if (!Number.isFinite(code) || lines[0].split(/\s+/).length !== 1) throw new Error(`${file}: malformed emotion code '${lines[0]}'`);
  if (!Number.isInteger(code) || code < 0 || code >= CLASS_ORDER.length) {
    throw new Error(`${file}: emotion code ${lines[0]} is out of range (integers 0-${CLASS_ORDER.length - 1})`);
  }
  return code;
}

const cropColumns = (prefix: string, b: Box) => ({
  [`${prefix}left`]: b.left, [`${prefix}top`]: b.top, [`${prefix}width`]: b.width, [`${prefix}height`]: b.height,
});

interface Sequence { subject: string; sequence: string; frames: string[]; code: number }

function labelledSequences(root: string, excluded: Exclusion[]): Sequence[] {
  const images = path.join(root, 'cohn-kanade-images');
  const emotions = path.join(root, 'Emotion');
  requireDir(images, 'CK+ image folder (cohn-kanade-images/)');
  requireDir(emotions, 'CK+ emotion label folder (Emotion/)');
  const out: Sequence[] = [];
  for (const subject of listDir(images)) {
    if (!subject.isDirectory()) { excluded.push({ file: path.join(images, subject.name), reason: 'not a subject folder' }); continue; }
    for (const seq of listDir(path.join(images, subject.name))) {
      const seqDir = path.join(images, subject.name, seq.name);
      if (!seq.isDirectory()) { excluded.push({ file: seqDir, reason: 'not a sequence folder' }); continue; }
      const labelDir = path.join(emotions, subject.name, seq.name);
      const labelFiles = fs.existsSync(labelDir) ? listDir(labelDir).filter((e) => e.name.endsWith('_emotion.txt')) : [];
      if (labelFiles.length === 0) { excluded.push({ file: seqDir, reason: 'no emotion label' }); continue; }
      if (labelFiles.length > 1) throw new Error(`${labelDir}: ${labelFiles.length} emotion files, expected one`);
      const labelFile = path.join(labelDir, labelFiles[0].name);
      const code = readEmotionCode(labelFile);
      const prefix = `${subject.name}_${seq.name}_`;
      const frames = sequenceFrames(seqDir, excluded);
      const stray = frames.find((f) => !path.basename(f).startsWith(prefix));
      if (stray) throw new Error(`${stray}: frame name does not match its folder (expected ${prefix}<frame>.png)`);
      if (frames.length < PEAKS + 1) { excluded.push({ file: seqDir, reason: `fewer than ${PEAKS + 1} frames (neutral + ${PEAKS} peaks)` }); continue; }
      const last = trailingNumber(frames[frames.length - 1]);
      const labelled = trailingNumber(labelFiles[0].name.replace(/_emotion\.txt$/, ''));
      if (labelled !== last) throw new Error(`${labelFile}: labels frame ${labelled}, but the sequence's last frame is ${last}`);
      out.push({ subject: subject.name, sequence: `${subject.name}_${seq.name}`, frames, code });
    }
  }
  return out;
}

const landmarkFile = (root: string, image: string) => {
  const [subject, seq] = path.relative(path.join(root, 'cohn-kanade-images'), path.dirname(image)).split(path.sep);
  return path.join(root, 'Landmarks', subject, seq, `${path.parse(image).name}_landmarks.txt`);
};

export const ckplus: DatasetReader = {
  name: 'ckplus',
  title: 'CK+ (Extended Cohn-Kanade)',
  layout: 'cohn-kanade-images/Sxxx/yyy/Sxxx_yyy_000000zz.png, Emotion/Sxxx/yyy/*_emotion.txt (code 0-7), Landmarks/Sxxx/yyy/*_landmarks.txt (68 "x y" lines)',
  expected: '327 labelled sequences of 118 subjects -> 981 peak frames (anger 135, contempt 54, disgust 177, fear 75, happy 207, sadness 84, surprise 249)',
  async read(root) {
    const excluded: Exclusion[] = [];
    const sequences = labelledSequences(root, excluded);
    requireDir(path.join(root, 'Landmarks'), 'CK+ landmark folder (Landmarks/)');
    const used = sequences.flatMap((s) => [s.frames[0], ...s.frames.slice(-PEAKS)]);
    // crop boxes are clipped to the image, so every used frame's size is read (verifyImages is always on)
    const sizes = await imageSizes(used);
    const bounds = new Map(used.map((f) => {
      const s = sizes.get(f)!;
      return [f, clampBox(landmarkBounds(readLandmarks68(landmarkFile(root, f))), s.width, s.height)];
    }));
    const rows: ManifestRow[] = [];
    for (const s of sequences) {
      const neutral = s.frames[0];
      s.frames.slice(-PEAKS).forEach((frame, i) => {
        const size = sizes.get(frame)!;
        rows.push({
          path: frame, subject: s.subject, sequence: s.sequence, frame: trailingNumber(frame)!,
          label: CLASS_ORDER[s.code], neutral_path: neutral, peak: i + 1,
          ...cropColumns('crop_', bounds.get(frame)!), ...cropColumns('neutral_crop_', bounds.get(neutral)!),
          width: size.width, height: size.height,
        });
      });
    }
    return { rows, excluded };
  },
};
