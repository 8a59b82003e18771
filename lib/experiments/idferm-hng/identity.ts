/**
 * IDFERM stage A's identity networks (`idfermIdentityNet`): 'synthetic' (IdNet-A trained on face-db
 * subjects, our stand-in for VGG-Face and Light CNN), 'face-api' (face-api's descriptor) or 'file'
 * (`idfermIdentityWeights`), for the HNG's identity loss (IDFERM Sec. 3.4). The evaluator (Table 1,
 * Fig. 10) is always a separate network (IdNet-B: other widths and seed) with its EER threshold.
 * @see notebooks/04-idferm.ipynb
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import type { Config } from '../../config';
import { writeFileAtomic } from '../../core/atomic-write';
import {
  buildIdNet, faceApiIdentityNet, IdentityNet, identityNetFromModel, loadIdentityNetFile, trainIdNet,
} from '../../models/idferm/identity-net';
import { readCsvRows, Row, writeCsv } from '../../results/store';
import { loadCheckpoint, saveCheckpoint } from '../../train/checkpoint';
import { deriveSeed } from '../../train/rng';
import { concat, concat32, type FaceDb, lcg, pick, shuffledRange } from './face-db';
import { hngSettings, stageDir, type StageOptions } from './settings';

export interface IdNetStage { net: tf.LayersModel; curve: Row[]; cached: boolean }

/** An IdNet trained (or loaded) on face-db subjects: 'a' for the losses, 'b' for the evaluator. */
export async function idNetStage(config: Config, db: FaceDb, which: 'a' | 'b', o: StageOptions): Promise<IdNetStage | null> {
  const spec = {
    size: db.size, width: which === 'a' ? 16 : 12, embedding: which === 'a' ? 64 : 48, subjects: db.subjectCount,
    seed: deriveSeed(config.seed, 'idnet', which) };
  const settings = { ...hngSettings(config), which, spec };
  const dir = stageDir(`idnet-${which}`, settings, o.resultsDir);
  const file = path.join(dir, 'weights.ckpt');
  if (!fs.existsSync(file) && o.train === false) return null;
  const net = buildIdNet(spec, `idnet${which}`);
  if (fs.existsSync(file)) {
    await loadCheckpoint(file, { net }, {});
    return { net, curve: readCsvRows(path.join(dir, 'curves.csv')), cached: true };
  }
  // the identity nets see targets and inputs: every subject's faces, with and without expression
  const images = concat(db.x, db.g);
  const subjects = concat32(db.subjects, Int32Array.from({ length: db.g.length / (db.size * db.size) }, (_, i) => i));
  const curve = (await trainIdNet(net, images, subjects, {
    size: db.size, epochs: config.idfermIdnetEpochs, batchSize: 32, seed: spec.seed }))
    .map((r) => ({ ...r, net: which }));
  fs.mkdirSync(dir, { recursive: true });
  writeFileAtomic(path.join(dir, 'stage.json'), JSON.stringify(settings, null, 2) + '\n');
  writeCsv(path.join(dir, 'curves.csv'), curve);
  await saveCheckpoint(file, { state: {}, parts: { net }, optimizers: {} });
  return { net, curve, cached: false };
}

/** Equal-error-rate threshold of an embedding on same/different-subject pairs of face-db. */
export function eerThreshold(evaluator: IdentityNet, db: FaceDb, seed: number): { threshold: number; eer: number } {
  const per = db.size * db.size, n = db.subjects.length;
  const idx = shuffledRange(n, lcg(seed)).slice(0, Math.min(n, 300));
  const emb = tf.tidy(() => evaluator.embed(tf.tensor4d(pick(db.x, per, idx), [idx.length, db.size, db.size, 1])));
  const e = emb.arraySync();
  emb.dispose();
  const same: number[] = [], diff: number[] = [];
  for (let i = 0; i < idx.length; i++) for (let j = i + 1; j < idx.length; j++) {
    const d = Math.sqrt(e[i].reduce((a, v, k) => a + (v - e[j][k]) ** 2, 0));
    (db.subjects[idx[i]] === db.subjects[idx[j]] ? same : diff).push(d);
  }
  let best = { threshold: 1, eer: 1, gap: Infinity };
  for (let t = 0; t <= 2; t += 0.01) {
    const frr = same.filter((d) => d > t).length / Math.max(same.length, 1);
    const far = diff.filter((d) => d <= t).length / Math.max(diff.length, 1);
    if (Math.abs(frr - far) < best.gap) best = { threshold: t, eer: (frr + far) / 2, gap: Math.abs(frr - far) };
  }
  return { threshold: Number(best.threshold.toFixed(2)), eer: best.eer };
}

/** The network the HNG's identity loss uses (and IdNet-A's training curve when it is trained here). */
export async function identityFor(config: Config, db: FaceDb, o: StageOptions): Promise<{ net: IdentityNet; curve: Row[] } | null> {
  if (config.idfermIdentityNet === 'face-api') return { net: await faceApiIdentityNet(), curve: [] };
  if (config.idfermIdentityNet === 'file') {
    if (!config.idfermIdentityWeights) throw new Error('idfermIdentityNet=file needs idfermIdentityWeights (a TF.js model.json)');
    return { net: await loadIdentityNetFile(config.idfermIdentityWeights), curve: [] };
  }
  const a = await idNetStage(config, db, 'a', o);
  const about = `IdNet-A: a small CNN trained to tell ${db.subjectCount} synthetic face-db subjects apart `
    + '(stand-in for VGG-Face and Light CNN)';
  return a && { net: identityNetFromModel(a.net, 'synthetic', about), curve: a.curve };
}
