/**
 * IDFERM stage A beyond the synthetic face-db: gradients of the identity loss
 * through face-api's 128-d descriptor network, and HNG pairs from a Multi-PIE
 * tree (query -> frontal neutral face of the same subject, session and
 * illumination) on which the generator trains before it makes references for
 * FER faces; a stored stage is found and loaded without training.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
import { loadConfig } from '../lib/config';
import { writeManifest } from '../lib/data/manifest';
import { buildManifest } from '../lib/data/readers';
import { buildHng, hngStep } from '../lib/models/idferm/hng';
import { faceApiIdentityNet } from '../lib/models/idferm/identity-net';
import { disposeHngStage, generateReferences, hngStage, loadHngStage } from '../lib/experiments/idferm-hng/stage';
import { hngPairRows, loadFaceDb } from '../lib/experiments/idferm-hng/face-db';
import { hngStageStored } from '../lib/experiments/idferm-hng/settings';
import { tinySet } from './tiny-set';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fer-idferm-hng-'));
before(async () => { await initBackend(); });
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('face-api descriptor: the identity loss sends finite, non-zero gradients to the generated face and into Enc and Dec', async () => {
  const id = await faceApiIdentityNet();
  try {
    // one face (the batch size where tf.unstack's gradient used to throw) straight to the generator's output
    const x = tf.randomUniform([1, 16, 16, 1], -1, 1, 'float32', 1) as tf.Tensor4D;
    const xg = tf.randomUniform([1, 16, 16, 1], -1, 1, 'float32', 2) as tf.Tensor4D;
    const g = tf.grad((a: tf.Tensor) => tf.tidy(() => {
      const ta = id.taps(a as tf.Tensor4D), tx = id.taps(x);
      return tf.mul(0.5, tf.addN(ta.psi.map((t, l) => tf.mean(tf.abs(tf.sub(t, tx.psi[l])))))) as tf.Scalar; // Eq. 6
    }))(xg);
    const d = g.dataSync();
    assert.ok(d.every(Number.isFinite), 'gradient has non-finite values');
    assert.ok(d.some((v) => v !== 0), 'gradient is all zero');
    tf.dispose([x, xg, g]);
    // the identity loss alone moves both halves of the generator (Algorithm 1: L_id is in the encoder's and the decoder's objective)
    const hng = buildHng({ size: 16, width: 2, latent: 8, seed: 1 });
    const batch = tf.tidy(() => ({ x: tf.randomUniform([2, 16, 16, 1], -1, 1, 'float32', 3) as tf.Tensor4D, y: tf.zeros([2, 16, 16, 1]) as tf.Tensor4D, g: tf.zeros([2, 16, 16, 1]) as tf.Tensor4D }));
    const snap = (m: tf.LayersModel) => m.trainableWeights.map((w) => Array.from(w.read().dataSync()));
    const enc0 = snap(hng.enc), dec0 = snap(hng.dec);
    const l = hngStep(hng, id, batch, { weights: { feat: 0, id: 1, pixel: 0, sym: 0, adv: 0 }, idRef: 'input', symSpace: 'laplacian' }, tf.train.sgd(1), tf.train.sgd(1));
    assert.ok(Number.isFinite(l.id) && l.id > 0, `identity loss ${l.id}`);
    const moved = (a: number[][], b: number[][]) => a.some((w, i) => w.some((v, j) => v !== b[i][j]));
    assert.ok(moved(enc0, snap(hng.enc)), 'encoder did not move');
    assert.ok(moved(dec0, snap(hng.dec)), 'decoder did not move');
    tf.dispose([batch.x, batch.y, batch.g]);
    [hng.enc, hng.dec, hng.dis].forEach((m) => m.dispose());
  } finally {
    id.dispose();
  }
});

describe('Multi-PIE as the HNG face-db (paper profile)', () => {
  const root = path.join(tmp, 'multipie');
  const file = (subject: string, session: string, rec: string, cam: string, illum: string) =>
    path.join(root, 'data', `session${session}`, 'multiview', subject, rec, cam, `${subject}_${session}_${rec}_${cam.replace('_', '')}_${illum}.png`);
  /** Left half dark, right half bright: a flip is visible. */
  const image = async (f: string) => {
    fs.mkdirSync(path.dirname(f), { recursive: true });
    const px = Buffer.alloc(16 * 16, 0).map((_, i) => (i % 16 < 8 ? 20 : 230));
    await sharp(px, { raw: { width: 16, height: 16, channels: 1 } }).png().toFile(f);
  };
  let manifest = '';

  before(async () => {
    for (const f of [
      file('001', '01', '01', '05_1', '07'), // frontal neutral: the target of session 01, flash 07
      file('001', '01', '02', '14_0', '07'), // smile at -15°
      file('001', '01', '02', '05_0', '07'), // smile at +15°
      file('001', '01', '01', '08_0', '07'), // neutral at -45°
      file('001', '01', '02', '11_0', '07'), // smile at -90°: outside ±45°
      file('001', '01', '02', '19_1', '07'), // raised camera: no yaw
      file('001', '02', '01', '05_1', '00'), // session 02 frontal neutral
      file('001', '02', '03', '05_1', '00'), // squint: dropped by the paper
      file('002', '03', '03', '05_1', '04'), // disgust without any frontal neutral of session 03
      file('002', '01', '01', '05_1', '02'), file('002', '01', '02', '04_1', '02'), // subject 002: neutral and smile at +30°
    ]) await image(f);
    const { rows } = await buildManifest('multipie', root);
    manifest = path.join(root, 'manifest.csv');
    writeManifest(manifest, rows);
  });

  test('pairs: query -> frontal neutral of the same subject and session; every other row excluded with its reason', async () => {
    const { buildManifest: build } = await import('../lib/data/readers');
    const { pairs, excluded } = hngPairRows((await build('multipie', root)).rows);
    const reasons = Object.fromEntries(excluded.map((e) => [path.basename(e.file), e.reason]));
    assert.match(reasons['001_01_02_110_07.png'], /outside the near-frontal/);
    assert.match(reasons['001_01_02_191_07.png'], /raised camera/);
    assert.match(reasons['001_02_03_051_00.png'], /squint/);
    assert.match(reasons['002_03_03_051_04.png'], /no frontal neutral/);
    assert.equal(pairs.length + excluded.length, 11);
    for (const p of pairs) {
      const [subject, session, , , illum] = path.basename(p.path, '.png').split('_');
      assert.equal(path.basename(p.neutral_path), `${subject}_${session}_01_051_${illum}.png`, `${p.path} -> ${p.neutral_path}`);
    }
  });

  test('the HNG trains on the Multi-PIE pairs (inputs of negative yaw flipped), is stored, reloads without training and makes FER references', async () => {
    const config = loadConfig({ FER_PROFILE: 'smoke' }, {
      idfermHngManifest: manifest, idfermImageSize: 16, idfermHngBatch: 4, idfermHngWarmupEpochs: 1, idfermHngEpochs: 1, idfermIdnetEpochs: 1, idfermHngWidth: 2, idfermHngLatent: 8,
    });
    const results = path.join(tmp, 'results');
    const db = await loadFaceDb(config, { resultsDir: results });
    assert.equal(db.subjectCount, 2);
    assert.equal(db.x.length / (16 * 16), 7, 'seven pairs (frontal neutral inputs map to themselves)');
    const row = (i: number) => Array.from(db.x.subarray(i * 256, i * 256 + 16));
    // every input image is dark on its left; the -15° and -45° ones must come out bright on the left
    const brightLeft = Array.from({ length: 7 }, (_, i) => row(i)[0] > row(i)[15]).filter(Boolean).length;
    assert.equal(brightLeft, 2, 'the two negative-yaw inputs are flipped, no other');

    assert.equal(hngStageStored(config, 'full', results), false);
    assert.equal(await loadHngStage(config, 'full', { resultsDir: results }), null, 'a missing stage is not trained by the loader');
    const stage = await hngStage(config, 'full', { resultsDir: results, progress: null });
    assert.equal(stage.cached, false);
    assert.match(stage.faceDb, /hng-facedb/);
    assert.ok(stage.curves.some((r) => r.phase === 'full') && stage.curves.every((r) => Number.isFinite(Number(r.gen))));
    assert.equal(hngStageStored(config, 'full', results), true);
    assert.equal(hngStageStored(config, 'no-id', results), false);

    const fer = tinySet({ size: 16 });
    const refs = generateReferences(stage, fer);
    const loaded = (await loadHngStage(config, 'full', { resultsDir: results }))!;
    assert.equal(loaded.cached, true);
    assert.deepEqual(Array.from(generateReferences(loaded, fer)), Array.from(refs), 'the reloaded stage makes the same references');
    assert.equal(refs.length, fer.images.length);
    assert.ok(refs.every((v) => v >= 0 && v <= 1));
    disposeHngStage(stage);
    disposeHngStage(loaded);
  });

  test('real FER faces without a real face-db are an error naming the setting', async () => {
    const config = loadConfig({ FER_PROFILE: 'smoke' }, { dataset: 'ckplus' });
    await assert.rejects(loadFaceDb(config), /idfermHngManifest/);
  });
});
