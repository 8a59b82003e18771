import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../lib/config';
import { ensureSynfer, loadDataset, loadManifestSet, roiMask, synferOptionsFrom } from '../lib/data/dataset';
import { readImage } from '../lib/data/image';
import { writeManifest } from '../lib/data/manifest';
import { resolveSynferOptions } from '../lib/data/synfer/generate';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dataset-test-'));
const cacheDir = path.join(tmp, 'cache');
const options = resolveSynferOptions({ subjects: 3, size: 32, frames: 4, expressions: ['disgust', 'happy', 'anger'], seed: 5 });
let manifest = '';

test('a SynFER set is generated once, then loaded with neutral references and labels', async () => {
  manifest = await ensureSynfer(options, tmp);
  const stat = fs.statSync(manifest);
  assert.equal(await ensureSynfer(options, tmp), manifest);
  assert.equal(fs.statSync(manifest).mtimeMs, stat.mtimeMs, 'not regenerated');
  const set = await loadManifestSet(manifest, { size: 32, channels: 1, cacheDir, progress: false });
  assert.equal(set.source!.cache, 'built');
  assert.deepEqual(set.classes, ['anger', 'disgust', 'happy']); // CLASS_ORDER, not generation order
  assert.equal(set.images.length, 27 * 32 * 32);
  assert.equal(set.neutral!.length, set.images.length);
  set.rows.forEach((r, i) => assert.equal(set.classes[set.labels[i]], r.label));
  const i = 4, per = 32 * 32;
  assert.deepEqual(set.neutral!.subarray(i * per, (i + 1) * per), await readImage(set.rows[i].neutral_path, { size: 32, channels: 1 }));
  assert.deepEqual(set.images.subarray(i * per, (i + 1) * per), await readImage(set.rows[i].path, { size: 32, channels: 1 }));
  assert.ok(set.images.every((v) => v >= 0 && v <= 1));
  const mask = roiMask(set.rows[0], 32);
  assert.ok(mask.some((v) => v === 1) && mask.some((v) => v === 0));
});

test('the disk cache is hit, and rebuilt when stale or corrupt', async () => {
  const load = (extra = {}) => loadManifestSet(manifest, { size: 32, channels: 1, cacheDir, progress: false, ...extra });
  const first = await load();
  const hit = await load();
  assert.equal(hit.source!.cache, 'hit');
  assert.deepEqual(hit.images, first.images);
  assert.deepEqual(hit.neutral, first.neutral);
  assert.equal((await load({ size: 24 })).source!.cache, 'built', 'other preprocessing settings');
  // Corrupt the data file: detected by the checksum, rebuilt, same pixels.
  const bin = fs.readdirSync(cacheDir).find((f) => f.endsWith('.bin') && (fs.statSync(path.join(cacheDir, f)).size === first.images.length * 8))!;
  const bytes = fs.readFileSync(path.join(cacheDir, bin));
  bytes[100] ^= 0xff;
  fs.writeFileSync(path.join(cacheDir, bin), bytes);
  const rebuilt = await load();
  assert.equal(rebuilt.source!.cache, 'built');
  assert.deepEqual(rebuilt.images, first.images);
  assert.equal((await load()).source!.cache, 'hit');
  // A changed image file makes the cache stale.
  const img = first.rows[0].path;
  const future = new Date(Date.now() + 5000);
  fs.utimesSync(img, future, future);
  assert.equal((await load()).source!.cache, 'built');
  // So does an edited manifest (a relabelled row).
  const rows = first.rows.map((r, i) => (i === 0 ? { ...r, label: 'disgust' } : r));
  const edited = path.join(path.dirname(manifest), 'edited.csv');
  writeManifest(edited, rows);
  const e = await loadManifestSet(edited, { size: 32, channels: 1, cacheDir, progress: false, name: 'edited' });
  assert.equal(e.source!.cache, 'built');
  assert.equal(e.classes[e.labels[0]], 'disgust');
});

test('bad input gives clear errors', async () => {
  const rows = (await loadManifestSet(manifest, { size: 32, channels: 1, cacheDir: null, progress: false })).rows;
  const mixed = path.join(tmp, 'mixed.csv');
  writeManifest(mixed, rows.map((r, i) => (i === 2 ? { ...r, neutral_path: '' } : r)));
  await assert.rejects(loadManifestSet(mixed, { size: 32, channels: 1, cacheDir: null }), /row 4 .* has no neutral_path/);
  const none = await loadManifestSet(mixed, { size: 32, channels: 1, cacheDir: null, neutral: 'none', progress: false });
  assert.equal(none.neutral, null);
  const missing = path.join(tmp, 'missing.csv');
  writeManifest(missing, [{ ...rows[0], path: path.join(tmp, 'nope.png') }]);
  await assert.rejects(loadManifestSet(missing, { size: 32, channels: 1, cacheDir }), /image not found: .*nope\.png/);
  await assert.rejects(loadDataset(loadConfig({ FER_PROFILE: 'smoke', FER_DATASET: 'ckplus' })), /FER_MANIFEST/);
  assert.throws(() => synferOptionsFrom(loadConfig({ FER_PROFILE: 'smoke', FER_SYNFER_LABEL_NOISE: '2' })), /FER_SYNFER_LABEL_NOISE=2/);
  assert.throws(() => synferOptionsFrom(loadConfig({ FER_PROFILE: 'smoke', FER_SYNFER_EXPRESSIONS: 'anger,joy' })), /FER_SYNFER_EXPRESSIONS: 'joy'/);
});

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
