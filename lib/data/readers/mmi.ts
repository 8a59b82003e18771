/**
 * MMI Facial Expression Database reader. MMI is distributed as one folder per
 * recording session (Sessions/<id>/ holding the video, e.g. S001-001.avi, and
 * XML metadata); node cannot decode the videos, and the emotion labels come
 * from the MMI web export rather than one fixed file. So this reader assumes
 * (our layout, stated here because the papers give none):
 *
 *   Sessions/<id>/*.png|jpg     the session's frames, extracted from its video
 *                               (e.g. `ffmpeg -i S001-001.avi Sessions/<id>/%04d.png`),
 *                               names ending in the frame number; the .avi and
 *                               .xml files of the download may stay there
 *   mmi-sequences.csv           one row per sequence to use, columns
 *                               session, subject, label [, view] [, apex]
 *
 * `label` is an expression name (anger, disgust, fear, happy, sadness,
 * surprise; 'happiness', 'angry' etc. are accepted). `view` (frontal/profile)
 * lets the CSV list every session: non-frontal ones are excluded, as the
 * papers use the frontal sequences only (DDL/GNDL: 205, IDFERM: 208).
 * `apex` is the apex frame's number where the user's copy annotates it.
 *
 * Frames (GNDL Sec. 4.1: three peak frames and one neutral frame; IDFERM
 * Sec. 5.5: the peak is not annotated, so three frames around the middle;
 * the rule below is our choice): MMI runs onset-apex-offset, so the
 * three peak frames are the apex and its two neighbours, or without an apex
 * the frames at positions floor(n/2)-1, floor(n/2), floor(n/2)+1 (0-based);
 * the first frame is the neutral reference.
 * Extra columns: peak (1-3), peak_rule (apex|middle), view, width/height.
 * @see notebooks/01-data-and-preprocessing.ipynb
 */
import * as fs from 'fs';
import * as path from 'path';
import Papa from 'papaparse';
import type { Exclusion, ManifestRow } from '../manifest';
import { expressionName } from './labels';
import { addImageSizes, listDir, requireDir, requireFile, sequenceFrames, trailingNumber, type DatasetReader } from './common';

const PEAKS = 3;
const COMPANIONS = new Set(['.avi', '.xml']);  // files of the MMI download that share the session folder

/** Positions (0-based) of the three peak frames: around the apex, or around the middle. */
export function mmiPeakPositions(frameCount: number, apexPosition?: number): number[] {
  const centre = apexPosition ?? Math.floor(frameCount / 2);
  const c = Math.min(Math.max(centre, 2), frameCount - 2);  // keep the neutral first frame out of the peaks
  return [c - 1, c, c + 1];
}

export const mmi: DatasetReader = {
  name: 'mmi',
  title: 'MMI Facial Expression Database (frontal sequences)',
  layout: 'Sessions/<id>/<frames extracted from the video>.png|jpg, mmi-sequences.csv (session,subject,label[,view][,apex])',
  expected: '205 frontal sequences (DDL, GNDL) -> 615 frames; IDFERM uses 208 of 31 subjects -> 624',
  async read(root, opts) {
    const sessions = path.join(root, 'Sessions');
    const listFile = path.join(root, 'mmi-sequences.csv');
    requireDir(sessions, 'MMI session folder (Sessions/)');
    requireFile(listFile, 'MMI sequence list (mmi-sequences.csv: session,subject,label[,view][,apex])');
    const parsed = Papa.parse<Record<string, string>>(fs.readFileSync(listFile, 'utf8'), { header: true, skipEmptyLines: true });
    if (parsed.errors.length) throw new Error(`${listFile}: row ${(parsed.errors[0].row ?? 0) + 2}: ${parsed.errors[0].message}`);
    const missing = ['session', 'subject', 'label'].filter((c) => !(parsed.meta.fields ?? []).includes(c));
    if (missing.length) throw new Error(`${listFile}: missing column(s) ${missing.join(', ')}`);

    const rows: ManifestRow[] = [];
    const excluded: Exclusion[] = [];
    const listed = new Set<string>();
    parsed.data.forEach((r, i) => {
      const where = `${listFile}: row ${i + 2}`;
      const session = r.session?.trim();
      if (!session || !r.subject?.trim()) throw new Error(`${where}: empty session or subject`);
      if (listed.has(session)) throw new Error(`${where}: session ${session} is listed twice`);
      listed.add(session);
      const label = expressionName(r.label ?? '');
      if (!label || label === 'neutral' || label === 'contempt') throw new Error(`${where}: '${r.label}' is not one of MMI's six expressions`);
      const seqDir = path.join(sessions, session);
      const view = (r.view ?? '').trim().toLowerCase();
      if (view && view !== 'frontal') { excluded.push({ file: seqDir, reason: `not frontal (view '${r.view}')` }); return; }
      requireDir(seqDir, `${where}: session folder`);
      const frames = sequenceFrames(seqDir, excluded, (name) => COMPANIONS.has(path.extname(name).toLowerCase()));
      if (frames.length < PEAKS + 1) throw new Error(`${seqDir}: ${frames.length} frame images, need at least ${PEAKS + 1} (neutral + ${PEAKS} peaks); extract the video's frames first`);
      let apexPosition: number | undefined;
      if (r.apex?.trim()) {
        apexPosition = frames.findIndex((f) => trailingNumber(f) === Number(r.apex));
        if (apexPosition < 0) throw new Error(`${where}: apex frame ${r.apex} is not among the frames of ${seqDir}`);
      }
      mmiPeakPositions(frames.length, apexPosition).forEach((pos, k) => rows.push({
        path: frames[pos], subject: r.subject.trim(), sequence: session, frame: trailingNumber(frames[pos])!,
        label, neutral_path: frames[0], peak: k + 1, peak_rule: apexPosition === undefined ? 'middle' : 'apex', view: view || 'frontal',
      }));
    });
    for (const e of listDir(sessions)) {
      if (!listed.has(e.name)) excluded.push({ file: path.join(sessions, e.name), reason: 'not listed in mmi-sequences.csv' });
    }
    await addImageSizes(rows, opts);
    return { rows, excluded };
  },
};
