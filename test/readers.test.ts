// Dataset readers on tiny fixture trees in each dataset's published layout
// (made here, in os.tmpdir()), including the errors users meet most: a
// missing file, a malformed or out-of-range label — each must name the file.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { buildManifest, SUPPORTED_DATASETS } from '../lib/data/readers';
import { readManifest } from '../lib/data/manifest';
import { main as manifestCli } from '../tools/data-manifest';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fer-readers-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

let fixtureCount = 0;
const fixture = (name: string) => {
  const dir = path.join(tmp, `${name}-${fixtureCount++}`);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
};

function write(file: string, text: string): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

/** A tiny grey image; the format follows the extension. */
async function image(file: string, width = 16, height = 12, grey = 128): Promise<string> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const img = sharp({ create: { width, height, channels: 3, background: { r: grey, g: grey, b: grey } } });
  await (file.endsWith('.png') ? img.png() : img.jpeg()).toFile(file);
  return file;
}

/** 68 "x y" lines spanning x in [x0, x0+w], y in [y0, y0+h] (CK+ float format). */
function landmarks(x0: number, y0: number, w: number, h: number): string {
  return Array.from({ length: 68 }, (_, i) => {
    const x = x0 + (w * (i % 17)) / 16, y = y0 + (h * Math.floor(i / 17)) / 3;
    return `   ${x.toExponential(7)}   ${y.toExponential(7)}`;
  }).join('\n') + '\n';
}

/** CK+: S005/001 (5 frames, disgust), S010/002 (6 frames, happy), S010/003 unlabelled. */
async function ckplusTree(): Promise<string> {
  const root = fixture('ckplus');
  const seqs: [string, string, number, number | undefined][] = [['S005', '001', 5, 3], ['S010', '002', 6, 5], ['S010', '003', 4, undefined]];
  for (const [s, q, n, code] of seqs) {
    for (let f = 1; f <= n; f++) {
      const stem = `${s}_${q}_${String(f).padStart(8, '0')}`;
      await image(path.join(root, 'cohn-kanade-images', s, q, `${stem}.png`), 20, 16);
      write(path.join(root, 'Landmarks', s, q, `${stem}_landmarks.txt`), landmarks(2 + f * 0.5, 3, 10, 8));
    }
    if (code !== undefined) write(path.join(root, 'Emotion', s, q, `${s}_${q}_${String(n).padStart(8, '0')}_emotion.txt`), `   ${code.toExponential(7)}\n`);
  }
  return root;
}

describe('CK+ reader', () => {
  test('last three frames of each labelled sequence, first frame as neutral, landmark crop columns', async () => {
    const root = await ckplusTree();
    const { rows, excluded } = await buildManifest('ckplus', root);
    assert.equal(rows.length, 6);
    assert.deepEqual(rows.map((r) => `${r.sequence}:${r.frame}:${r.label}`),
      ['S005_001:3:disgust', 'S005_001:4:disgust', 'S005_001:5:disgust', 'S010_002:4:happy', 'S010_002:5:happy', 'S010_002:6:happy']);
    assert.equal(rows[0].neutral_path, path.join(root, 'cohn-kanade-images', 'S005', '001', 'S005_001_00000001.png'));
    assert.ok(path.isAbsolute(rows[0].path) && fs.existsSync(rows[0].path));
    // frame 3's landmarks span x 3.5..13.5, y 3..11 -> whole pixels 3..14 x 3..11
    assert.deepEqual([rows[0].crop_left, rows[0].crop_top, rows[0].crop_width, rows[0].crop_height], [3, 3, 11, 8]);
    assert.deepEqual([rows[0].neutral_crop_left, rows[0].neutral_crop_width], [2, 11]);
    assert.deepEqual([rows[0].width, rows[0].height, rows[2].peak], [20, 16, 3]);
    assert.deepEqual(excluded, [{ file: path.join(root, 'cohn-kanade-images', 'S010', '003'), reason: 'no emotion label' }]);
  });

  test('a missing landmark file is an error naming it', async () => {
    const root = await ckplusTree();
    const missing = path.join(root, 'Landmarks', 'S010', '002', 'S010_002_00000005_landmarks.txt');
    fs.rmSync(missing);
    await assert.rejects(buildManifest('ckplus', root), (e: Error) => e.message.includes(missing));
  });

  test('a malformed or out-of-range emotion code is an error naming the file', async () => {
    const root = await ckplusTree();
    const label = path.join(root, 'Emotion', 'S005', '001', 'S005_001_00000005_emotion.txt');
    write(label, 'three\n');
    await assert.rejects(buildManifest('ckplus', root), (e: Error) => e.message.includes(label) && /malformed/.test(e.message));
    write(label, '   9.0000000e+00\n');
    await assert.rejects(buildManifest('ckplus', root), (e: Error) => e.message.includes(label) && /out of range/.test(e.message));
  });

  test('a landmark file with the wrong number of points names the file', async () => {
    const root = await ckplusTree();
    const file = path.join(root, 'Landmarks', 'S005', '001', 'S005_001_00000001_landmarks.txt');
    write(file, landmarks(0, 0, 5, 5).split('\n').slice(0, 60).join('\n'));
    await assert.rejects(buildManifest('ckplus', root), (e: Error) => e.message.includes(file) && /68/.test(e.message));
  });
});

describe('Oulu-CASIA reader', () => {
  test('VL/Strong only: last three frames, first as neutral; stray files are listed', async () => {
    const root = fixture('oulu');
    for (const p of ['P001', 'P002']) {
      for (const expr of ['Anger', 'Happiness']) {
        for (let f = 0; f < 5; f++) await image(path.join(root, 'OriginalImg', 'VL', 'Strong', p, expr, `${String(f).padStart(3, '0')}.jpeg`));
      }
    }
    await image(path.join(root, 'OriginalImg', 'VL', 'Dark', 'P001', 'Anger', '000.jpeg'));
    write(path.join(root, 'OriginalImg', 'VL', 'Strong', 'P001', 'Anger', 'notes.txt'), 'x');
    const { rows, excluded } = await buildManifest('oulu', root);
    assert.equal(rows.length, 12);
    assert.deepEqual(rows.slice(0, 3).map((r) => [r.subject, r.label, r.frame]), [['P001', 'anger', 2], ['P001', 'anger', 3], ['P001', 'anger', 4]]);
    assert.ok(rows.every((r) => r.neutral_path.endsWith(`${r.sequence.split('_')[1]}${path.sep}000.jpeg`) && !r.path.includes('Dark')));
    assert.deepEqual(excluded.map((e) => [path.basename(e.file), e.reason]), [['notes.txt', 'not a numbered frame image']]);
  });

  test('an unknown expression folder is an error naming it', async () => {
    const root = fixture('oulu');
    for (let f = 0; f < 4; f++) await image(path.join(root, 'OriginalImg', 'VL', 'Strong', 'P001', 'Smirk', `${f}.jpeg`));
    await assert.rejects(buildManifest('oulu', root), (e: Error) => e.message.includes(path.join('P001', 'Smirk')));
  });
});

describe('MMI reader', () => {
  async function mmiTree(csv: string): Promise<string> {
    const root = fixture('mmi');
    for (const [session, n] of [['1', 9], ['2', 7], ['3', 5], ['4', 5]] as const) {
      for (let f = 1; f <= n; f++) await image(path.join(root, 'Sessions', session, `frame${String(f).padStart(4, '0')}.png`));
      write(path.join(root, 'Sessions', session, `S001-00${session}.avi`), 'video');
    }
    write(path.join(root, 'mmi-sequences.csv'), csv);
    return root;
  }

  test('middle frames by default, apex frames when annotated; non-frontal and unlisted sessions excluded', async () => {
    const root = await mmiTree('session,subject,label,view,apex\n1,S001,Happy,frontal,\n2,S001,anger,frontal,3\n3,S002,fear,profile,\n');
    const { rows, excluded } = await buildManifest('mmi', root);
    assert.deepEqual(rows.map((r) => `${r.sequence}:${r.frame}:${r.label}:${r.peak_rule}`),
      ['1:4:happy:middle', '1:5:happy:middle', '1:6:happy:middle', '2:2:anger:apex', '2:3:anger:apex', '2:4:anger:apex']);
    assert.ok(rows.every((r) => path.basename(r.neutral_path) === 'frame0001.png'));
    assert.deepEqual(excluded.map((e) => [path.basename(e.file), e.reason]), [['3', "not frontal (view 'profile')"], ['4', 'not listed in mmi-sequences.csv']]);
  });

  test('a label that is not one of the six expressions names the CSV row', async () => {
    const root = await mmiTree('session,subject,label\n1,S001,happy\n2,S001,boredom\n');
    await assert.rejects(buildManifest('mmi', root), (e: Error) => e.message.includes(`${path.join(root, 'mmi-sequences.csv')}: row 3`));
  });
});

describe('RAF-DB reader', () => {
  async function rafTree(labels: string): Promise<string> {
    const root = fixture('rafdb');
    write(path.join(root, 'EmoLabel', 'list_patition_label.txt'), labels);
    for (const stem of ['train_00001', 'train_00002', 'test_0001']) {
      await image(path.join(root, 'Image', 'aligned', `${stem}_aligned.jpg`), 10, 10);
      await image(path.join(root, 'Image', 'original', `${stem}.jpg`), 30, 20);
      write(path.join(root, 'Annotation', 'manual', `${stem}_manu_attri.txt`), '10.5\t12.25\n20 12\n15 16\n11 20\n19 20\n1\n2\n3\n');
    }
    return root;
  }

  test('official split, labels 1-7, gender/race/age, no neutral reference', async () => {
    const root = await rafTree('train_00001.jpg 5\ntrain_00002.jpg 4\ntest_0001.jpg 7\n');
    const { rows, excluded } = await buildManifest('rafdb', root);
    assert.deepEqual(rows.map((r) => [r.subject, r.split, r.label]), [['train_00001', 'train', 'sadness'], ['train_00002', 'train', 'happy'], ['test_0001', 'test', 'neutral']]);
    assert.deepEqual([rows[0].gender, rows[0].race, rows[0].age, rows[0].neutral_path, rows[0].width], ['female', 'asian', '40-69', '', 10]);
    assert.equal(excluded.length, 0);
    const original = await buildManifest('rafdb', root, { images: 'original', attributes: false });
    assert.equal(path.basename(original.rows[0].path), 'train_00001.jpg');
    assert.equal(original.rows[0].gender, undefined);
  });

  test('a label out of range, a malformed line or a missing annotation names the file', async () => {
    const list = (root: string) => path.join(root, 'EmoLabel', 'list_patition_label.txt');
    let root = await rafTree('train_00001.jpg 5\ntrain_00002.jpg 8\n');
    await assert.rejects(buildManifest('rafdb', root), (e: Error) => e.message.includes(`${list(root)}: line 2`) && /out of range/.test(e.message));
    root = await rafTree('train_00001.jpg\n');
    await assert.rejects(buildManifest('rafdb', root), (e: Error) => e.message.includes(`${list(root)}: line 1`));
    root = await rafTree('train_00001.jpg 5\n');
    const annotation = path.join(root, 'Annotation', 'manual', 'train_00001_manu_attri.txt');
    fs.rmSync(annotation);
    await assert.rejects(buildManifest('rafdb', root), (e: Error) => e.message.includes(annotation));
  });
});

describe('SFEW reader', () => {
  test('Train/Val class folders -> split and label; an unknown class folder names it', async () => {
    const root = fixture('sfew');
    await image(path.join(root, 'Train', 'Angry', 'Airheads_000519240_00000005.png'));
    await image(path.join(root, 'Train', 'Happy', 'Bridesmaids_001.png'));
    await image(path.join(root, 'Val', 'Surprise', 'Hangover_002.png'));
    const { rows } = await buildManifest('sfew', root);
    assert.deepEqual(rows.map((r) => [r.split, r.label, r.neutral_path]), [['train', 'anger', ''], ['train', 'happy', ''], ['val', 'surprise', '']]);
    await image(path.join(root, 'Val', 'Bored', 'x.png'));
    await assert.rejects(buildManifest('sfew', root), (e: Error) => e.message.includes(path.join('Val', 'Bored')));
  });
});

describe('FER2013 reader', () => {
  const pixels = (v: number) => Array(48 * 48).fill(v).join(' ');

  test('pixels decoded to 48x48 PNG files in the cache, split from Usage', async () => {
    const root = fixture('fer2013');
    write(path.join(root, 'fer2013.csv'), `emotion,pixels,Usage\n0,${pixels(10)},Training\n3,${pixels(200)},PublicTest\n6,${pixels(90)},PrivateTest\n`);
    const cacheDir = path.join(root, 'out', 'fer-images');
    const { rows } = await buildManifest('fer2013', root, { cacheDir });
    assert.deepEqual(rows.map((r) => [r.label, r.split]), [['anger', 'train'], ['happy', 'val'], ['neutral', 'test']]);
    const meta = await sharp(rows[1].path).metadata();
    const data = await sharp(rows[1].path).extractChannel(0).raw().toBuffer();
    assert.deepEqual([meta.width, meta.height, meta.channels, data[0], data[2303]], [48, 48, 1, 200, 200]);
    assert.equal(path.dirname(rows[0].path), cacheDir);
  });

  test('a rerun reuses the decoded images, and a changed CSV rewrites them', async () => {
    const root = fixture('fer2013');
    const csv = write(path.join(root, 'fer2013.csv'), `emotion,pixels,Usage\n4,${pixels(10)},Training\n`);
    const cacheDir = path.join(root, 'cache');
    const first = (await buildManifest('fer2013', root, { cacheDir })).rows[0].path;
    const written = fs.statSync(first).mtimeMs;
    await buildManifest('fer2013', root, { cacheDir });
    assert.equal(fs.statSync(first).mtimeMs, written);
    write(csv, `emotion,pixels,Usage\n4,${pixels(250)},Training\n`);
    fs.utimesSync(csv, new Date(), new Date(Date.now() + 5000));
    await buildManifest('fer2013', root, { cacheDir });
    assert.equal((await sharp(first).extractChannel(0).raw().toBuffer())[0], 250);
  });

  test('a row with the wrong pixel count or emotion code names the line', async () => {
    const root = fixture('fer2013');
    const csv = write(path.join(root, 'fer2013.csv'), `emotion,pixels,Usage\n0,${pixels(10)},Training\n2,1 2 3,Training\n`);
    await assert.rejects(buildManifest('fer2013', root, { cacheDir: path.join(root, 'c') }), (e: Error) => e.message.includes(`${csv}: line 3`));
    write(csv, `emotion,pixels,Usage\n7,${pixels(10)},Training\n`);
    await assert.rejects(buildManifest('fer2013', root, { cacheDir: path.join(root, 'c') }), (e: Error) => e.message.includes(`${csv}: line 2`) && /out of range/.test(e.message));
  });
});

describe('Multi-PIE reader', () => {
  const mp = (root: string, subject: string, session: string, rec: string, cam: string, illum: string) =>
    path.join(root, 'data', `session${session}`, 'multiview', subject, rec, cam, `${subject}_${session}_${rec}_${cam.replace('_', '')}_${illum}.png`);

  test('subject, pose, illumination and expression from the naming scheme; frontal neutral as reference', async () => {
    const root = fixture('multipie');
    await image(mp(root, '001', '01', '01', '05_1', '07'));
    await image(mp(root, '001', '01', '02', '08_0', '07'));
    await image(mp(root, '001', '03', '03', '19_1', '00'));
    const { rows } = await buildManifest('multipie', root);
    const smile = rows.find((r) => r.recording === 2)!;
    assert.deepEqual([smile.subject, smile.label, smile.pose, smile.yaw, smile.illumination], ['001', 'happy', '08_0', -45, 7]);
    assert.equal(smile.neutral_path, mp(root, '001', '01', '01', '05_1', '07'));
    const disgust = rows.find((r) => r.session === 3)!;
    assert.deepEqual([disgust.label, disgust.yaw, disgust.neutral_path], ['disgust', '', '']);
  });

  test('a file whose name disagrees with its folders is an error naming it', async () => {
    const root = fixture('multipie');
    const wrong = path.join(root, 'data', 'session01', 'multiview', '002', '01', '05_1', '001_01_01_051_07.png');
    await image(wrong);
    await assert.rejects(buildManifest('multipie', root), (e: Error) => e.message.includes(wrong));
  });
});

describe('generic CSV reader', () => {
  test('validated rows with paths resolved from the CSV folder; a missing image names the row', async () => {
    const root = fixture('csv');
    await image(path.join(root, 'img', 'a.png'));
    await image(path.join(root, 'img', 'n.png'));
    const csv = write(path.join(root, 'set.csv'), 'path,subject,sequence,frame,label,neutral_path,pose\nimg/a.png,s1,q1,3,happy,img/n.png,15\n');
    const { rows } = await buildManifest('csv', csv);
    assert.deepEqual([rows[0].path, rows[0].neutral_path, rows[0].pose], [path.join(root, 'img', 'a.png'), path.join(root, 'img', 'n.png'), 15]);
    write(csv, 'path,subject,sequence,frame,label,neutral_path\nimg/a.png,s1,q1,3,happy,\nimg/gone.png,s1,q1,4,happy,\n');
    await assert.rejects(buildManifest('csv', csv), (e: Error) => e.message.includes(`${csv}: row 3`) && e.message.includes('gone.png'));
    write(csv, 'path,subject,frame,label,neutral_path\nimg/a.png,s1,3,happy,\n');
    await assert.rejects(buildManifest('csv', csv), (e: Error) => e.message.includes(csv) && /sequence/.test(e.message));
  });
});

describe('buildManifest and the manifest CLI', () => {
  test('an unknown dataset or an empty folder is an error that says what is expected', async () => {
    await assert.rejects(buildManifest('affectnet', tmp), (e: Error) => SUPPORTED_DATASETS.every((d) => e.message.includes(d)));
    await assert.rejects(buildManifest('ckplus', fixture('empty')), (e: Error) => /cohn-kanade-images/.test(e.message));
  });

  test('writes the manifest and FILE.excluded.csv, and prints per-label counts and exclusions', async () => {
    const root = await ckplusTree();
    const out = path.join(root, 'out', 'ckplus.csv');
    const printed: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => { printed.push(a.join(' ')); };
    try {
      await manifestCli(['--dataset', 'ckplus', '--root', root, '--out', out]);
      await manifestCli(['--help']);
    } finally {
      console.log = log;
    }
    const rows = readManifest(out);
    assert.equal(rows.length, 6);
    assert.equal(rows[0].crop_width, 11);
    assert.match(fs.readFileSync(path.join(root, 'out', 'ckplus.excluded.csv'), 'utf8'), /^file,reason\n.*S010.003,no emotion label\n$/);
    const text = printed.join('\n');
    assert.match(text, /per label: disgust 3, happy 3/);
    assert.match(text, /excluded 1: 1 no emotion label/);
    for (const d of SUPPORTED_DATASETS) assert.match(text, new RegExp(`\\n  ${d} `));
    assert.deepEqual(fs.readdirSync(path.join(root, 'out')).sort(), ['ckplus.csv', 'ckplus.excluded.csv']);
  });

  test('a failing read writes nothing', async () => {
    const root = await ckplusTree();
    fs.rmSync(path.join(root, 'Landmarks', 'S005', '001', 'S005_001_00000005_landmarks.txt'));
    const out = path.join(root, 'out', 'ckplus.csv');
    await assert.rejects(manifestCli(['--dataset', 'ckplus', '--root', root, '--out', out]), /S005_001_00000005_landmarks\.txt/);
    assert.equal(fs.existsSync(path.join(root, 'out')), false);
  });
});
