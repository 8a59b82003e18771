/**
 * SFEW 2.0 (Static Facial Expressions in the Wild) reader. Layout of the
 * published Train and Val archives, under the dataset root:
 *
 *   Train/Angry/*.png ... Val/Surprise/*.png          (default)
 *   Train_Aligned_Faces/Angry/*.png ...               (`images: 'aligned'`, the aligned-face archives)
 *
 * Class folders: Angry, Disgust, Fear, Happy, Neutral, Sad, Surprise. The
 * test set has no public labels and is not read. Protocol (DDL Sec. 4.1):
 * train on Train, report on Val (DDL counts 847 / 409 images after face
 * detection). No identities are published: every image is its own subject,
 * and there is no neutral reference.
 * Extra columns: split (train|val), width/height.
 * @see notebooks/01-data-and-preprocessing.ipynb
 */
import * as path from 'path';
import type { Exclusion, ManifestRow } from '../manifest';
import { expressionName } from './labels';
import { addImageSizes, isImage, listDir, requireDir, type DatasetReader } from './common';

const SPLITS = [['train', 'Train'], ['val', 'Val']] as const;

export const sfew: DatasetReader = {
  name: 'sfew',
  title: 'SFEW 2.0',
  layout: 'Train/<Class>/*.png and Val/<Class>/*.png (Angry, Disgust, Fear, Happy, Neutral, Sad, Surprise); Train_Aligned_Faces/, Val_Aligned_Faces/ with images=aligned',
  expected: 'Train 958 / Val 436 images in the archives; DDL keeps 847 / 409 after face detection',
  async read(root, opts) {
    const suffix = opts.images === 'aligned' ? '_Aligned_Faces' : '';
    const rows: ManifestRow[] = [];
    const excluded: Exclusion[] = [];
    for (const [split, folder] of SPLITS) {
      const splitDir = path.join(root, folder + suffix);
      requireDir(splitDir, `SFEW ${split} folder`);
      for (const cls of listDir(splitDir)) {
        const classDir = path.join(splitDir, cls.name);
        if (!cls.isDirectory()) { excluded.push({ file: classDir, reason: 'not a class folder' }); continue; }
        const label = expressionName(cls.name);
        if (!label || label === 'contempt') throw new Error(`${classDir}: '${cls.name}' is not an SFEW class folder (Angry, Disgust, Fear, Happy, Neutral, Sad, Surprise)`);
        for (const e of listDir(classDir)) {
          const file = path.join(classDir, e.name);
          if (!e.isFile() || !isImage(e.name)) { excluded.push({ file, reason: 'not an image' }); continue; }
          const stem = path.parse(e.name).name;
          rows.push({ path: file, subject: `${split}/${stem}`, sequence: `${split}/${stem}`, frame: 0, label, neutral_path: '', split });
        }
      }
    }
    await addImageSizes(rows, opts);
    return { rows, excluded };
  },
};
