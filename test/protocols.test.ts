import assert from 'node:assert/strict';
import { test } from 'node:test';
import { augmentPairs } from '../lib/data/augment';
import { foldIndices, officialSplit, subjectFolds } from '../lib/data/folds';
import type { ManifestRow } from '../lib/data/manifest';
import { neutralPairs, withNeutralClass } from '../lib/data/pairs';
import { rng } from '../lib/data/random';

/** A CK+-shaped manifest: 327 labelled sequences of 118 subjects, last 3 frames each. */
function ckplusLike(): ManifestRow[] {
  const perClass: [string, number][] = [['anger', 45], ['contempt', 18], ['disgust', 59], ['fear', 25], ['happy', 69], ['sadness', 28], ['surprise', 83]];
  const rows: ManifestRow[] = [];
  let k = 0;
  for (const [label, n] of perClass) {
    for (let s = 0; s < n; s++, k++) {
      const subject = `S${String(10 + (k % 118)).padStart(3, '0')}`;
      const sequence = String(k).padStart(3, '0');
      const last = 12 + (k % 9);
      for (let f = last - 2; f <= last; f++) {
        rows.push({ path: `${subject}/${sequence}/${f}.png`, subject, sequence, frame: f, label, neutral_path: `${subject}/${sequence}/1.png` });
      }
    }
  }
  return rows;
}

test('CK+-shaped manifest: 327 sequences give 981 pairs sharing one neutral per sequence', () => {
  const rows = ckplusLike();
  const pairs = neutralPairs(rows);
  assert.equal(pairs.length, 981);
  assert.equal(new Set(pairs.map((p) => p.neutral)).size, 327);
  for (const p of pairs) assert.equal(p.neutral, rows[p.target].neutral_path);
  const eight = withNeutralClass(rows);
  assert.equal(eight.length, 981 + 327);
  assert.equal(eight.filter((r) => r.label === 'neutral').length, 327);
  // a neutral row is cropped by the neutral frame's landmarks, not the peak's
  const boxed = withNeutralClass([{ ...rows[0], crop_left: 10, crop_top: 11, crop_width: 50, crop_height: 60,
    neutral_crop_left: 1, neutral_crop_top: 2, neutral_crop_width: 70, neutral_crop_height: 80 }]);
  assert.deepEqual([1, 2, 70, 80], ['left', 'top', 'width', 'height'].map((k) => boxed[1][`crop_${k}`]));
  assert.equal(boxed[0].crop_left, 10);
  assert.throws(() => neutralPairs([...rows, { ...rows[0], path: 'x.png', neutral_path: '' }]), /row 983 \(x\.png\): no neutral_path/);
  assert.throws(() => neutralPairs([...rows, { ...rows[0], path: 'x.png', neutral_path: 'other.png' }]), /two neutral frames/);
});

test('subject folds: deterministic, subject-independent, balanced, clear errors', () => {
  const subjects = ckplusLike().map((r) => r.subject);
  const a = subjectFolds(subjects, 10, 1);
  assert.deepEqual(a, subjectFolds(subjects, 10, 1));
  assert.notDeepEqual(a, subjectFolds(subjects, 10, 2));
  const foldOf = new Map<string, number>();
  subjects.forEach((s, i) => {
    assert.equal(foldOf.get(s) ?? a[i], a[i], `subject ${s} in two folds`);
    foldOf.set(s, a[i]);
  });
  const sizes = Array.from({ length: 10 }, (_, f) => a.filter((x) => x === f).length);
  assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 9, `fold sizes ${sizes}`); // the largest subject has 9 samples
  // Equal counts per subject: equal subjects per fold.
  const even = Array.from({ length: 30 }, (_, i) => `p${i}`).flatMap((s) => [s, s, s]);
  const e = subjectFolds(even, 5, 7);
  assert.deepEqual(Array.from({ length: 5 }, (_, f) => e.filter((x) => x === f).length), [18, 18, 18, 18, 18]);
  const { train, test: held } = foldIndices(e, 0);
  assert.equal(train.length + held.length, 90);
  assert.throws(() => subjectFolds(['a', 'a', 'b'], 3, 1), /folds=3 is more than the 2 subjects/);
  assert.throws(() => subjectFolds(['a', 'b'], 1, 1), /folds=1/);
});

test('official split reads the split column and names bad rows', () => {
  const rows = ckplusLike().slice(0, 4).map((r, i) => ({ ...r, split: i < 3 ? 'train' : 'test' }));
  const s = officialSplit(rows);
  assert.deepEqual([...s.train], [0, 1, 2]);
  assert.deepEqual([...s.test], [3]);
  assert.throws(() => officialSplit([...rows, { ...rows[0], split: 'val' }]), /row 6 .*split 'val'/);
  assert.throws(() => officialSplit(ckplusLike().slice(0, 2)), /no 'split' value/);
});

test('augmentation applies the same operation to both images of a pair', () => {
  const size = 4, ch = 1, n = 64, per = size * size * ch;
  const targets = Float32Array.from({ length: n * per }, (_, i) => ((i * 7) % 13) / 13);
  const neutrals = targets.slice(); // identical pairs stay identical under any shared op
  const out = augmentPairs(targets, neutrals, size, ch, rng(3, 'aug'), { pNone: 0.2, noiseStd: 0.05 });
  assert.deepEqual(out.targets, out.neutrals);
  assert.ok(out.ops.includes('flip') && out.ops.includes('noise') && out.ops.includes('none'));
  const again = augmentPairs(targets, neutrals, size, ch, rng(3, 'aug'), { pNone: 0.2, noiseStd: 0.05 });
  assert.deepEqual(again.targets, out.targets);
  out.ops.forEach((op, b) => {
    const src = targets.subarray(b * per, (b + 1) * per), dst = out.targets.subarray(b * per, (b + 1) * per);
    if (op === 'none') assert.deepEqual(dst, src);
    if (op === 'flip') assert.equal(dst[0], src[size - 1]);
    if (op === 'noise') assert.notDeepEqual(dst, src);
  });
  assert.deepEqual(targets, neutrals, 'inputs are not modified');
  const indep = augmentPairs(targets, neutrals, size, ch, rng(3, 'aug'), { pNone: 0, noiseStd: 0.05, pairNoise: 'independent' });
  const b = indep.ops.indexOf('noise');
  assert.notDeepEqual(indep.targets.subarray(b * per, (b + 1) * per), indep.neutrals!.subarray(b * per, (b + 1) * per));
  assert.throws(() => augmentPairs(targets.subarray(1), null, size, ch, rng(1)), /whole number/);
});
