import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { readManifest } from '../lib/data/manifest';
import { CKPLUS_CLASSES } from '../lib/data/classes';
import { activation, drawSubject } from '../lib/data/synfer/face';
import { generateSynfer, renderSample, resolveSynferOptions, synferHash, synferName } from '../lib/data/synfer/generate';
import { synferOptionsFrom } from '../lib/data/dataset';
import { loadConfig } from '../lib/config';
import { faceSvg, FRONTAL_VIEW, STROKE, VIEW_SIDE } from '../lib/data/synfer/render';
import { parseSynferArgs } from '../tools/data-synfer';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'synfer-test-'));
const small = { subjects: 3, size: 32, frames: 4, expressions: ['anger', 'happy', 'surprise'] as const };
const gen = (name: string, extra: object = {}) => generateSynfer(path.join(tmp, name), { ...small, expressions: [...small.expressions], ...extra });

function listFiles(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile()).map((d) => path.relative(dir, path.join(d.parentPath, d.name))).sort();
}

test('same seed gives byte-identical manifest and images; another seed differs', async () => {
  const [a, b, c] = [await gen('a'), await gen('b'), await gen('c', { seed: 2 })];
  const files = listFiles(a.dir);
  assert.deepEqual(files, listFiles(b.dir));
  for (const f of files) {
    if (f === 'synfer.json') continue;
    assert.ok(fs.readFileSync(path.join(a.dir, f)).equals(fs.readFileSync(path.join(b.dir, f))), `${f} differs between two runs`);
  }
  assert.notEqual(fs.readFileSync(a.manifest, 'utf8'), fs.readFileSync(c.manifest, 'utf8'));
  assert.ok(!fs.readFileSync(path.join(a.dir, 'frames/s001/anger/f03.png')).equals(fs.readFileSync(path.join(c.dir, 'frames/s001/anger/f03.png'))));
  assert.deepEqual(fs.readdirSync(tmp).filter((f) => f.includes('.tmp-')), [], 'no temp folder left behind');
});

test('lab manifest follows the CK+ convention: last 3 frames, neutral = first frame', async () => {
  const r = await gen('lab', { frames: 6 });
  const rows = readManifest(r.manifest);
  assert.equal(rows.length, 3 * 3 * 3);
  for (const row of rows) {
    assert.ok([3, 4, 5].includes(row.frame), `frame ${row.frame}`);
    assert.equal(row.neutral_path, `frames/${row.subject}/${row.label}/f00.png`);
    assert.equal(row.sequence, `${row.subject}_${row.label}`);
    assert.ok(fs.existsSync(path.join(r.dir, row.path)) && fs.existsSync(path.join(r.dir, row.neutral_path)));
    assert.ok(fs.existsSync(path.join(r.dir, String(row.frontal_path))));
    assert.ok(Number(row.intensity) >= 0.25 && Number(row.intensity) <= 1);
    for (const k of ['confound', 'yaw', 'pitch', 'roll', 'light_dir', 'light_strength', 'glasses', 'gender', 'age_group', 'skin_tone', 'roi_mouth_y1']) assert.ok(k in row, `column ${k}`);
    assert.ok(Number(row.roi_eyes_y1) < Number(row.roi_mouth_y1), 'eye region above the mouth region');
  }
  // All frames are on disk for figures (frames 1-2 are onset frames outside the manifest).
  assert.equal(listFiles(path.join(r.dir, 'frames/s001/happy')).length, 6);
  const meta = await sharp(path.join(r.dir, rows[0].path)).metadata();
  assert.equal(meta.width, 32);
  assert.equal(meta.channels, 1);
  const json = JSON.parse(fs.readFileSync(path.join(r.dir, 'synfer.json'), 'utf8'));
  assert.equal(json.options.frames, 6);
  assert.equal(json.name, synferName(r.options));
});

test('disturbance knobs show up in the labels; label noise flips exactly the requested share', async () => {
  const r = await gen('noisy', { pose: 30, light: 1, labelNoise: 1 / 3, corrupt: 1 / 3, color: true });
  const rows = readManifest(r.manifest);
  assert.equal(rows.filter((x) => x.label_flipped === 1).length, 9);
  assert.equal(rows.filter((x) => x.corruption !== 'none').length, 9);
  for (const x of rows) {
    if (x.label_flipped === 1) assert.notEqual(x.label, x.true_label);
    else assert.equal(x.label, x.true_label);
    assert.ok([-30, -15, 0, 15, 30].includes(Number(x.yaw)), `yaw ${x.yaw}`);
    assert.equal(x.pose_bin, Number(x.yaw) / 15 + 2);
    assert.ok(Math.abs(Number(x.roll)) <= 10);
  }
  // A sequence keeps one pose and light (a session); identity traits are per subject.
  const bySeq = new Map<string, string>();
  for (const x of rows) {
    const v = `${x.yaw}|${x.light_dir}|${x.light_strength}|${x.confound}`;
    assert.equal(bySeq.get(x.sequence) ?? v, v);
    bySeq.set(x.sequence, v);
  }
  assert.equal((await sharp(path.join(r.dir, rows[0].path)).metadata()).channels, 3);
  const wild = await gen('wild', { mode: 'wild', perSubject: 4, testFraction: 1 / 3, expressions: undefined });
  const wrows = readManifest(wild.manifest);
  assert.equal(wrows.length, 12);
  assert.ok(wrows.every((x) => x.neutral_path === '' && (x.split === 'train' || x.split === 'test')));
  assert.equal(new Set(wrows.filter((x) => x.split === 'test').map((x) => x.subject)).size, 1);
});

test('bad options give errors naming the option; nothing is written', async () => {
  assert.throws(() => resolveSynferOptions({ subjects: 0 }), /subjects=0/);
  assert.throws(() => resolveSynferOptions({ expressions: ['anger', 'joy' as never] }), /expressions: 'joy'/);
  assert.throws(() => resolveSynferOptions({ expressions: ['anger', 'neutral'] }), /'neutral' is not a lab sequence/);
  assert.throws(() => parseSynferArgs(['--label-noise', '1.5']), /--label-noise=1.5/);
  assert.throws(() => parseSynferArgs(['--size', 'big']), /--size 'big' is not a number/);
  assert.throws(() => parseSynferArgs(['--sizes', '32']), /sizes/);
  await assert.rejects(generateSynfer(path.join(tmp, 'a-never'), { ...small, expressions: [...small.expressions], frames: 3 }), /frames=3/);
  assert.ok(!fs.existsSync(path.join(tmp, 'a-never')));
  await assert.rejects(gen('a'), /already exists/);
});

test('no stroke is thinner than 1.5 px at 32 px, whatever the face, expression and occluders', () => {
  for (const id of ['s001', 's002', 's003', 's004', 's005', 's006']) {
    const face = { ...drawSubject(1, id, 1, 0), glasses: true, bangs: true, beard: true };
    for (const e of ['neutral', ...CKPLUS_CLASSES] as const) {
      const { svg } = faceSvg(face, activation(face, e, 1), FRONTAL_VIEW, 32);
      for (const [, w] of svg.matchAll(/stroke-width="([\d.]+)"/g)) {
        assert.ok((Number(w) * 32) / VIEW_SIDE >= 1.49, `${id} ${e}: a stroke of ${((Number(w) * 32) / VIEW_SIDE).toFixed(2)} px`);
      }
    }
  }
  assert.ok(Math.abs((STROKE * 32) / VIEW_SIDE - 1.5) < 1e-9);
});

test('every class changes a clean face legibly at 32 px, each in its own way, on light and dark skin alike', async () => {
  const grey = async (png: Buffer) => Float32Array.from((await sharp(png).raw().toBuffer()), (v) => v / 255);
  const ids = Array.from({ length: 12 }, (_, i) => `s${String(i + 1).padStart(3, '0')}`);
  const tone = (id: string) => drawSubject(3, id, 0, 0).skinTone;
  const subjects = [...ids.filter((id) => tone(id) === 0).slice(0, 2), ...ids.filter((id) => tone(id) === 2).slice(0, 2)];
  assert.equal(subjects.length, 4, 'two light-skinned and two dark-skinned subjects');
  for (const subject of subjects) {
    const base = { seed: 3, subject, size: 32, confound: 0 };
    const neutral = await grey(await renderSample({ ...base, expression: 'neutral', intensity: 0 }));
    const diffs = new Map<string, Float32Array>();
    for (const e of CKPLUS_CLASSES) {
      const peak = await grey(await renderSample({ ...base, expression: e, intensity: 1 }));
      const d = peak.map((v, i) => v - neutral[i]);
      const changed = d.filter((v) => Math.abs(v) > 0.15).length;
      assert.ok(changed >= 12, `${subject} ${e}: only ${changed} pixels change by more than 0.15`);
      diffs.set(e, d);
    }
    // no two classes move the same pixels the same way
    for (const a of CKPLUS_CLASSES) for (const b of CKPLUS_CLASSES) {
      if (a >= b) continue;
      const da = diffs.get(a)!, db = diffs.get(b)!;
      const distance = Math.sqrt(da.reduce((acc, v, i) => acc + (v - db[i]) ** 2, 0));
      assert.ok(distance > 1, `${subject}: ${a} and ${b} differ by only ${distance.toFixed(2)}`);
    }
  }
});

test("the command line's defaults draw the notebooks' default lab set", () => {
  const cli = parseSynferArgs(['--out', 'x', '--subjects', '60', '--size', '32']);
  const notebooks = synferOptionsFrom(loadConfig({ FER_PROFILE: 'lite' }));
  assert.equal(synferHash(resolveSynferOptions(cli.options)), synferHash(notebooks), 'same options, same set folder');
});

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
