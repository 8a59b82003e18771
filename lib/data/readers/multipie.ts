/**
 * CMU Multi-PIE reader (the multiview images). Layout of the published
 * archive, under the dataset root (or its data/ folder):
 *
 *   session01/multiview/001/01/05_1/001_01_01_051_00.png
 *   session<SS>/multiview/<subject>/<recording>/<camera>/<subject>_<SS>_<recording>_<camera without _>_<illumination>.png
 *
 * Expression by session and recording (Gross et al., Multi-PIE, 2010):
 *   session 1: 01 neutral, 02 smile      session 2: 01 neutral, 02 surprise, 03 squint
 *   session 3: 01 neutral, 02 smile, 03 disgust
 *   session 4: 01 neutral, 02 neutral, 03 scream
 * smile is written as 'happy'; squint and scream keep their names (IDFERM
 * drops them, DDL's disturbance model can use every image). 15 cameras (pose)
 * and 20 flash conditions 00-19 (illumination). DDL pretrains its disturbance
 * model on identity/pose/illumination; IDFERM's generator learns to map a face
 * to the frontal (camera 05_1) neutral face of the same person. neutral_path
 * is that image: same subject, session and illumination, recording 01, camera
 * 05_1 (empty where the archive lacks it).
 * Extra columns: session, recording, pose (camera, e.g. 05_1), yaw (degrees;
 * empty for the two raised cameras 08_1 and 19_1), illumination (0-19).
 * The image headers are not opened by default (750K files); set verifyImages.
 * @see notebooks/01-data-and-preprocessing.ipynb
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Exclusion, ManifestRow } from '../manifest';
import { addImageSizes, listDir, requireDir, type DatasetReader } from './common';

const EXPRESSION_BY_RECORDING: Record<string, Record<string, string>> = {
  '01': { '01': 'neutral', '02': 'happy' },
  '02': { '01': 'neutral', '02': 'surprise', '03': 'squint' },
  '03': { '01': 'neutral', '02': 'happy', '03': 'disgust' },
  '04': { '01': 'neutral', '02': 'neutral', '03': 'scream' },
};

/** Horizontal camera angle, left profile to right profile in 15-degree steps (the usual ordering). */
const YAW: Record<string, number> = {
  '11_0': -90, '12_0': -75, '09_0': -60, '08_0': -45, '13_0': -30, '14_0': -15, '05_1': 0,
  '05_0': 15, '04_1': 30, '19_0': 45, '20_0': 60, '01_0': 75, '24_0': 90,
};
const CAMERAS = new Set([...Object.keys(YAW), '08_1', '19_1']);
const FRONTAL = '05_1';
const NAME = /^(\d{3})_(\d{2})_(\d{2})_(\d{2})(\d)_(\d{2})\.png$/;
const LAYOUT = 'session0N/multiview/<subject>/<recording>/<camera>/<subject>_<session>_<recording>_<camera>_<illum>.png';

function* walk(dir: string): Generator<string> {
  for (const e of listDir(dir)) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else yield p;
  }
}

export const multipie: DatasetReader = {
  name: 'multipie',
  title: 'CMU Multi-PIE (multiview)',
  layout: LAYOUT,
  expected: '755,370 images of 337 subjects, 15 cameras, 20 illuminations (DDL); IDFERM uses the 5 near-frontal pose groups',
  async read(root, opts) {
    const base = fs.existsSync(path.join(root, 'data')) ? path.join(root, 'data') : root;
    requireDir(base, 'Multi-PIE folder');
    const sessions = listDir(base).filter((e) => e.isDirectory() && /^session\d{2}$/.test(e.name));
    if (sessions.length === 0) throw new Error(`no session01..session04 folders in ${base} (expected ${LAYOUT})`);
    const rows: ManifestRow[] = [];
    const excluded: Exclusion[] = [];
    const frontalNeutral = new Map<string, string>();  // subject_session_illum -> image
    for (const s of sessions) {
      const sessionDir = path.join(base, s.name);
      for (const e of listDir(sessionDir)) {
        if (e.name !== 'multiview') excluded.push({ file: path.join(sessionDir, e.name), reason: 'not the multiview image set' });
      }
      requireDir(path.join(sessionDir, 'multiview'), 'Multi-PIE multiview folder');
      for (const file of walk(path.join(sessionDir, 'multiview'))) {
        const m = NAME.exec(path.basename(file));
        if (!m) { excluded.push({ file, reason: 'not a Multi-PIE multiview image name' }); continue; }
        const [, subject, session, recording, camA, camB, illum] = m;
        const camera = `${camA}_${camB}`;
        const expected = path.join(base, `session${session}`, 'multiview', subject, recording, camera, path.basename(file));
        if (file !== expected) throw new Error(`${file}: its name belongs at ${expected}; folders and name disagree`);
        const label = EXPRESSION_BY_RECORDING[session]?.[recording];
        if (!label) throw new Error(`${file}: session ${session} has no recording ${recording} in Multi-PIE`);
        if (!CAMERAS.has(camera)) throw new Error(`${file}: camera ${camera} is not one of Multi-PIE's 15 cameras`);
        if (Number(illum) > 19) throw new Error(`${file}: illumination ${illum} is out of range (00-19)`);
        if (recording === '01' && camera === FRONTAL) frontalNeutral.set(`${subject}_${session}_${illum}`, file);
        rows.push({
          path: file, subject, sequence: `${subject}_${session}_${recording}_${camera}`, frame: Number(illum), label,
          neutral_path: `${subject}_${session}_${illum}`,  // a key until the references are known, below
          session: Number(session), recording: Number(recording), pose: camera, yaw: YAW[camera] ?? '', illumination: Number(illum),
        });
      }
    }
    for (const r of rows) r.neutral_path = frontalNeutral.get(r.neutral_path) ?? '';
    await addImageSizes(rows, { ...opts, verifyImages: opts.verifyImages ?? false });
    return { rows, excluded };
  },
};
