// Preprocessing: landmark crop boxes (pure geometry, then through readImage),
// and face-api detection + eye alignment on a face drawn with SVG.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
import { readImage } from '../lib/data/image';
import {
  alignFace, alignmentFor, clampBox, cropBoxFromRow, detectFace, eyeCentres, landmarkBounds, landmarkCropBox, squareCropBox,
  type Point,
} from '../lib/data/preprocess';
import type { ManifestRow } from '../lib/data/manifest';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fer-preprocess-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

const faceApiLoaded = () => Object.keys(require.cache).some((k) => k.includes('face-api.node-wasm'));

describe('landmark crop boxes', () => {
  const points: Point[] = [{ x: 10.2, y: 20 }, { x: 30.7, y: 25 }, { x: 18, y: 50.5 }, { x: 22, y: 21 }];

  test('bounds are the extreme points; clampBox covers them with whole pixels inside the image', () => {
    assert.deepEqual(landmarkBounds(points), { left: 10.2, top: 20, width: 30.7 - 10.2, height: 30.5 });
    assert.deepEqual(clampBox(landmarkBounds(points), 100, 100), { left: 10, top: 20, width: 21, height: 31 });
    assert.deepEqual(clampBox({ left: -3, top: 90, width: 20, height: 20 }, 100, 100), { left: 0, top: 90, width: 17, height: 10 });
  });

  test('the square box is centred, grows by the margin on every side, and is moved inside the image', () => {
    const box = { left: 40, top: 30, width: 20, height: 40 };
    assert.deepEqual(squareCropBox(box, { imageWidth: 200, imageHeight: 200 }), { left: 30, top: 30, width: 40, height: 40 });
    assert.deepEqual(squareCropBox(box, { margin: 0.25, imageWidth: 200, imageHeight: 200 }), { left: 20, top: 20, width: 60, height: 60 });
    // near the top-left corner: moved, not squashed
    assert.deepEqual(squareCropBox({ left: 0, top: 0, width: 10, height: 10 }, { margin: 0.5, imageWidth: 50, imageHeight: 50 }), { left: 0, top: 0, width: 20, height: 20 });
    // larger than the image: shrinks to the image's shorter side, still centred where it can be
    assert.deepEqual(squareCropBox({ left: 0, top: 0, width: 80, height: 80 }, { imageWidth: 60, imageHeight: 40 }), { left: 20, top: 0, width: 40, height: 40 });
    assert.throws(() => squareCropBox(box, { margin: -1, imageWidth: 9, imageHeight: 9 }), /margin/);
  });

  test('a manifest row\'s recorded crop (CK+ columns) cuts out exactly that region with readImage', async () => {
    // left half black, right half white: a crop of the right half reads all ones
    const file = path.join(tmp, 'halves.png');
    const raw = Buffer.alloc(40 * 20 * 3);
    for (let y = 0; y < 20; y++) for (let x = 20; x < 40; x++) raw.fill(255, (y * 40 + x) * 3, (y * 40 + x) * 3 + 3);
    await sharp(raw, { raw: { width: 40, height: 20, channels: 3 } }).png().toFile(file);
    const row = {
      path: file, subject: 's', sequence: 'q', frame: 1, label: 'happy', neutral_path: '', width: 40, height: 20,
      crop_left: 22, crop_top: 2, crop_width: 12, crop_height: 16, neutral_crop_left: 0, neutral_crop_top: 0, neutral_crop_width: 10, neutral_crop_height: 10,
    } as ManifestRow;
    const crop = cropBoxFromRow(row)!;
    assert.ok((await readImage(file, { size: 8, channels: 1, crop })).every((v) => v === 1));
    assert.ok((await readImage(file, { size: 8, channels: 1, crop: cropBoxFromRow(row, { which: 'neutral' }) })).every((v) => v === 0));
    assert.deepEqual(cropBoxFromRow(row, { square: true, margin: 0.25 }), { left: 18, top: 0, width: 20, height: 20 });
    assert.equal(cropBoxFromRow({ ...row, crop_left: '', crop_top: '', crop_width: '', crop_height: '' }), undefined);
  });

  test('landmarkCropBox: 68 points -> one square box inside the image', () => {
    const pts = Array.from({ length: 68 }, (_, i) => ({ x: 30 + (i % 10) * 4, y: 40 + Math.floor(i / 10) * 5 }));
    assert.deepEqual(landmarkCropBox(pts, { margin: 0.1, imageWidth: 120, imageHeight: 120 }), { left: 27, top: 34, width: 43, height: 43 });
  });
});

/** 68 landmarks of a level face (eyes at y=40, x 30..40 and 60..70) rotated by `deg` about the eye midpoint (50, 40). */
function rotatedFace(deg: number): Point[] {
  const pts: Point[] = Array.from({ length: 68 }, (_, i) => ({ x: 25 + (i % 17) * 3, y: 30 + Math.floor(i / 17) * 12 }));
  for (let i = 0; i < 6; i++) { pts[36 + i] = { x: 30 + 2 * i, y: 40 }; pts[42 + i] = { x: 60 + 2 * i, y: 40 }; }
  const t = (deg * Math.PI) / 180;
  return pts.map((p) => ({ x: 50 + Math.cos(t) * (p.x - 50) - Math.sin(t) * (p.y - 40), y: 40 + Math.sin(t) * (p.x - 50) + Math.cos(t) * (p.y - 40) }));
}

describe('eye alignment geometry', () => {
  test('recovers the in-plane angle; the affine maps the levelled crop back onto the rotated eyes', () => {
    const pts = rotatedFace(20);
    const a = alignmentFor(pts, { size: 64 });
    assert.ok(Math.abs(a.angle - 20) < 1e-9, `angle ${a.angle}`);
    // the same face unrotated gives the same box: rotation is fully removed
    assert.deepEqual(a.box, alignmentFor(rotatedFace(0), { size: 64 }).box);
    // output pixels whose centres lie on the eye row all sample points on the line through both eyes
    const eyes = eyeCentres(pts);
    const [a0, a1, a2, b0, b1, b2] = a.affine;
    const k = a.box.width / 64;
    const v = (40 - a.box.top) / k - 0.5;  // output row of the eyes (y = 40 in the levelled frame)
    for (const u of [0, 20, 63]) {
      const x = a0 * u + a1 * v + a2 + 0.5, y = b0 * u + b1 * v + b2 + 0.5;
      const cross = (eyes.right.x - eyes.left.x) * (y - eyes.left.y) - (eyes.right.y - eyes.left.y) * (x - eyes.left.x);
      assert.ok(Math.abs(cross) < 1e-6, `output (${u}, ${v.toFixed(2)}) maps off the eye line`);
    }
  });
});

/** A frontal cartoon face, turned by `tilt` degrees; face-api's detector finds it (score about 0.9). */
function faceSvg(tilt: number): string {
  const eye = (s: number) => `
    <path d="M ${128 + s * 10} 110 Q ${128 + s * 26} 102 ${128 + s * 41} 111" stroke="#2a1d14" stroke-width="5" fill="none" stroke-linecap="round"/>
    <ellipse cx="${128 + s * 26}" cy="123" rx="12" ry="5" fill="#fff"/>
    <circle cx="${128 + s * 26}" cy="123" r="4.6" fill="#4a3020"/><circle cx="${128 + s * 26}" cy="123" r="2" fill="#000"/>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256">
    <defs><radialGradient id="skin" cx="50%" cy="45%" r="60%"><stop offset="0%" stop-color="#f1c7a5"/><stop offset="80%" stop-color="#d9a07a"/><stop offset="100%" stop-color="#b97b55"/></radialGradient></defs>
    <rect width="256" height="256" fill="#66788a"/>
    <g transform="rotate(${tilt} 128 128)">
      <ellipse cx="128" cy="115" rx="69" ry="92" fill="#3b2a1e"/>
      <rect x="56" y="192" width="144" height="77" fill="#d9a07a"/>
      <ellipse cx="128" cy="136" rx="56" ry="77" fill="url(#skin)"/>
      <path d="M 72 108 Q 128 31 184 108 Q 179 77 128 72 Q 77 77 72 108" fill="#3b2a1e"/>
      ${eye(-1)}${eye(1)}
      <path d="M 128 125 L 122 148 Q 128 154 134 148" stroke="#a8704e" stroke-width="2" fill="none"/>
      <path d="M 110 166 Q 128 177 146 166 Q 128 170 110 166" fill="#a04848" stroke="#803030" stroke-width="1"/>
    </g></svg>`;
}

describe('face detection and alignment (face-api, bundled weights)', () => {
  const tilted = path.join(tmp, 'face-tilted.png');
  const blank = path.join(tmp, 'blank.png');

  before(async () => {
    await initBackend();
    await sharp(Buffer.from(faceSvg(12))).png().toFile(tilted);
    await sharp({ create: { width: 96, height: 96, channels: 3, background: '#808080' } }).png().toFile(blank);
  });

  test('face-api is not loaded until a face is aligned', () => {
    assert.equal(faceApiLoaded(), false);
  });

  test('weights come from disk: loading works with the network unavailable, on the project\'s engine', async () => {
    const realFetch = globalThis.fetch;
    globalThis.fetch = () => Promise.reject(new Error('network used while loading face-api'));
    try {
      const face = await detectFace(tilted);
      assert.ok(face.score > 0.5 && face.landmarks.length === 68);
    } finally {
      globalThis.fetch = realFetch;
    }
    assert.equal(faceApiLoaded(), true);
    assert.equal(tf.getBackend(), (await initBackend()).tfBackend);
  });

  test('a face turned by 12 degrees is levelled: the angle is found, and the aligned crop has level eyes', async () => {
    const before = tf.memory().numTensors;
    const a = await alignFace(tilted, { size: 96, channels: 3, margin: 0.15 });
    assert.equal(tf.memory().numTensors, before, 'alignFace leaks tensors');
    assert.ok(Math.abs(a.angle - 12) < 4, `found ${a.angle.toFixed(1)} degrees`);
    assert.equal(a.pixels.length, 96 * 96 * 3);
    assert.ok(a.pixels.every((v) => v >= 0 && v <= 1));
    const out = path.join(tmp, 'aligned.png');
    await sharp(Buffer.from(a.pixels.map((v) => Math.round(v * 255))), { raw: { width: 96, height: 96, channels: 3 } }).resize(192, 192).png().toFile(out);
    const { left, right } = eyeCentres((await detectFace(out)).landmarks);
    const level = (Math.atan2(right.y - left.y, right.x - left.x) * 180) / Math.PI;
    assert.ok(Math.abs(level) < 3, `eyes still tilted by ${level.toFixed(1)} degrees after alignment`);
    const grey = await alignFace(tilted, { size: 32, channels: 1 });
    assert.equal(grey.pixels.length, 32 * 32);
  });

  test('no face found is an error naming the file', async () => {
    await assert.rejects(alignFace(blank, { size: 32, channels: 1 }), (e: Error) => e.message.includes(blank) && /no face/.test(e.message));
  });
});
