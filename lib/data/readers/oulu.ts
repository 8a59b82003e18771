/**
 * Oulu-CASIA NIR&VIS reader, visible-light camera. Layout of the published
 * archive, under the dataset root:
 *
 *   OriginalImg/VL/Strong/P001/Anger/000.jpeg ...   one folder per sequence
 *
 * Expression folders: Anger, Disgust, Fear, Happiness, Sadness, Surprise.
 * Protocol (SPNDL/GNDL/DDL/IDFERM, Sec. 4 of each spec): VIS camera, strong
 * (normal) illumination only -> 80 subjects x 6 sequences; the last three
 * frames of each, with the first frame as the neutral reference -> 1,440 rows.
 * `illumination` picks another lighting folder (Weak, Dark). Oulu-CASIA ships
 * no landmarks: crop with face-api landmarks (lib/data/preprocess).
 * Extra columns: peak (1-3), illumination, width/height.
 * @see notebooks/01-data-and-preprocessing.ipynb
 */
import * as path from 'path';
import type { Exclusion, ManifestRow } from '../manifest';
import { expressionName } from './labels';
import { addImageSizes, listDir, requireDir, sequenceFrames, trailingNumber, type DatasetReader } from './common';

const PEAKS = 3;

export const oulu: DatasetReader = {
  name: 'oulu',
  title: 'Oulu-CASIA NIR&VIS (VIS, strong illumination)',
  layout: 'OriginalImg/VL/Strong/Pxxx/<Expression>/*.jpeg (Anger, Disgust, Fear, Happiness, Sadness, Surprise)',
  expected: '480 sequences of 80 subjects -> 1,440 peak frames, 240 per class',
  async read(root, opts) {
    const illumination = opts.illumination ?? 'Strong';
    const base = path.join(root, 'OriginalImg', 'VL', illumination);
    requireDir(base, `Oulu-CASIA visible-light ${illumination} folder (OriginalImg/VL/${illumination}/)`);
    const rows: ManifestRow[] = [];
    const excluded: Exclusion[] = [];
    for (const subject of listDir(base)) {
      const subjectDir = path.join(base, subject.name);
      if (!subject.isDirectory()) { excluded.push({ file: subjectDir, reason: 'not a subject folder' }); continue; }
      for (const expr of listDir(subjectDir)) {
        const seqDir = path.join(subjectDir, expr.name);
        if (!expr.isDirectory()) { excluded.push({ file: seqDir, reason: 'not an expression folder' }); continue; }
        const label = expressionName(expr.name);
        if (!label) throw new Error(`${seqDir}: '${expr.name}' is not an Oulu-CASIA expression folder (Anger, Disgust, Fear, Happiness, Sadness, Surprise)`);
        const frames = sequenceFrames(seqDir, excluded);
        if (frames.length < PEAKS + 1) { excluded.push({ file: seqDir, reason: `fewer than ${PEAKS + 1} frames (neutral + ${PEAKS} peaks)` }); continue; }
        frames.slice(-PEAKS).forEach((frame, i) => rows.push({
          path: frame, subject: subject.name, sequence: `${subject.name}_${expr.name}`, frame: trailingNumber(frame)!,
          label, neutral_path: frames[0], peak: i + 1, illumination: illumination.toLowerCase(),
        }));
      }
    }
    await addImageSizes(rows, opts);
    return { rows, excluded };
  },
};
