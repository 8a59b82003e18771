/**
 * Face detection + 68-point alignment for raw pictures (RAF-DB originals,
 * SFEW, Oulu-CASIA frames), with the models bundled in @vladmandic/face-api.
 *
 * Steps: detect faces (SSD MobileNet v1) and keep the largest; find its 68
 * landmarks; rotate about the midpoint of the eye centres so the eyes are
 * level; crop the square around the rotated landmarks' bounds (plus a
 * margin, as in ./landmark-crop.ts) and resample it to `size` x `size` in one
 * bilinear warp. DDL (Sec. 4.1) aligns by the eye positions and SPNDL/GNDL
 * crop to the landmark bounds; this does both.
 *
 * face-api's node-wasm build requires the same @tensorflow/tfjs as the
 * project, so it runs on the backend lib/backend chose (never a second
 * engine), and its weights are read from node_modules with fs, never fetched.
 * It is loaded on the first call only: importing this module costs nothing.
 * @see notebooks/01-data-and-preprocessing.ipynb
 */
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { initBackend } from '../../backend';
import { landmarkBounds, squareCropBox, type Box, type Point } from './landmark-crop';

// face-api's own types stay internal: they reference DOM types a notebook cell cannot resolve
type FaceApi = typeof import('@vladmandic/face-api/dist/face-api.node-wasm');

/** Folder of face-api's bundled weights (weights manifests + .bin shards). */
export const FACE_API_MODEL_DIR = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');

let faceApi: Promise<FaceApi> | undefined;

/** Loads face-api and its detector + landmark weights from disk, once per process. */
function faceApiModule(): Promise<FaceApi> {
  faceApi ??= (async () => {
    // a backend must exist before face-api touches tf; respect one already chosen
    if (!tf.engine().backendName) await initBackend();
    const api = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApi;
    if ((api.tf as unknown as typeof tf).engine() !== tf.engine()) throw new Error('face-api loaded a second copy of @tensorflow/tfjs; check that node_modules holds one version');
    await api.nets.ssdMobilenetv1.loadFromDisk(FACE_API_MODEL_DIR);
    await api.nets.faceLandmark68Net.loadFromDisk(FACE_API_MODEL_DIR);
    return api;
  })().catch((e: Error) => {
    faceApi = undefined;  // let a later call retry
    throw new Error(`cannot load face-api models from ${FACE_API_MODEL_DIR}: ${e.message}`);
  });
  return faceApi;
}

/** Loads the detector and landmark models now (alignFace does it on first use). */
export async function loadFaceModels(): Promise<void> {
  await faceApiModule();
}

/** A decoded picture: RGB bytes, row-major. */
interface Picture { data: Buffer; width: number; height: number }

async function decode(file: string): Promise<Picture> {
  try {
    const { data, info } = await sharp(file, { failOn: 'error' }).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height };
  } catch (e) {
    throw new Error(`cannot read image ${file}: ${(e as Error).message}`);
  }
}

export interface DetectedFace {
  /** detector confidence, 0-1 */
  score: number;
  /** detector box, source pixels */
  box: Box;
  /** the 68 points (iBUG order), source pixels */
  landmarks: Point[];
}

export interface DetectOptions {
  /** smallest detector score that counts as a face (default 0.5) */
  minConfidence?: number;
}

async function detectIn(pic: Picture, file: string, opts: DetectOptions): Promise<DetectedFace> {
  const api = await faceApiModule();
  const input = tf.tensor3d(new Int32Array(pic.data), [pic.height, pic.width, 3], 'int32');
  try {
    const faces = await api.detectAllFaces(input, new api.SsdMobilenetv1Options({ minConfidence: opts.minConfidence ?? 0.5 })).withFaceLandmarks();
    if (faces.length === 0) throw new Error(`no face found in ${file} (detector confidence below ${opts.minConfidence ?? 0.5})`);
    const area = (f: (typeof faces)[number]) => f.detection.box.width * f.detection.box.height;
    const face = faces.reduce((a, b) => (area(b) > area(a) ? b : a));
    const b = face.detection.box;
    return {
      score: face.detection.score,
      box: { left: b.x, top: b.y, width: b.width, height: b.height },
      landmarks: face.landmarks.positions.map((p) => ({ x: p.x, y: p.y })),
    };
  } finally {
    input.dispose();
  }
}

/** The largest face in a picture with its 68 landmarks; an error naming the file when there is none. */
export async function detectFace(file: string, opts: DetectOptions = {}): Promise<DetectedFace> {
  return detectIn(await decode(file), file, opts);
}

/** Eye centres: the means of points 36-41 (image-left eye) and 42-47 (image-right eye). */
export function eyeCentres(landmarks: readonly Point[]): { left: Point; right: Point } {
  if (landmarks.length !== 68) throw new Error(`eyeCentres: expected 68 landmarks, got ${landmarks.length}`);
  const mean = (from: number) => {
    const pts = landmarks.slice(from, from + 6);
    return { x: pts.reduce((s, p) => s + p.x, 0) / 6, y: pts.reduce((s, p) => s + p.y, 0) / 6 };
  };
  return { left: mean(36), right: mean(42) };
}

export interface Alignment {
  /** in-plane rotation of the face, degrees (positive: the image-right eye is lower) */
  angle: number;
  /** crop box in the eye-levelled frame (rotated about the eye midpoint), pixels */
  box: Box;
  /**
   * [a0, a1, a2, b0, b1, b2]: output pixel (u, v) samples the source at
   * x = a0 u + a1 v + a2, y = b0 u + b1 v + b2 (pixel centres at integers),
   * the convention of tf.image.transform
   */
  affine: number[];
}

export interface AlignOptions extends DetectOptions {
  /** side of the square output, pixels */
  size: number;
  /** 1 = grayscale, 3 = RGB (as lib/data/image.ts readImage) */
  channels: 1 | 3;
  /** added on every side of the landmark box, as a fraction of its side (default 0) */
  margin?: number;
}

/**
 * The geometry of an alignment, from 68 landmarks: eyes level, square crop of
 * the rotated landmarks' bounds with a margin (not clipped: pixels outside
 * the picture repeat its edge).
 */
export function alignmentFor(landmarks: readonly Point[], opts: { size: number; margin?: number }): Alignment {
  const { left, right } = eyeCentres(landmarks);
  const theta = Math.atan2(right.y - left.y, right.x - left.x);
  const c = Math.cos(theta), s = Math.sin(theta);
  const mid = { x: (left.x + right.x) / 2, y: (left.y + right.y) / 2 };
  // landmarks in the eye-levelled frame: rotate by -theta about the eye midpoint
  const levelled = landmarks.map((p) => ({
    x: mid.x + c * (p.x - mid.x) + s * (p.y - mid.y),
    y: mid.y - s * (p.x - mid.x) + c * (p.y - mid.y),
  }));
  const box = squareCropBox(landmarkBounds(levelled), { margin: opts.margin, imageWidth: Infinity, imageHeight: Infinity });
  const k = box.width / opts.size;
  // continuous coordinates: output pixel centre u + 0.5 -> levelled point -> rotate by +theta -> source, minus 0.5
  const qx0 = box.left + 0.5 * k - mid.x, qy0 = box.top + 0.5 * k - mid.y;
  const affine = [
    c * k, -s * k, mid.x + c * qx0 - s * qy0 - 0.5,
    s * k, c * k, mid.y + s * qx0 + c * qy0 - 0.5,
  ];
  return { angle: (theta * 180) / Math.PI, box, affine };
}

export interface AlignedFace extends DetectedFace, Alignment {
  file: string;
  eyes: { left: Point; right: Point };
  /** [size, size, channels] in [0, 1], row-major, as readImage returns */
  pixels: Float32Array;
}

/** Detects the largest face, aligns it by the eye centres and returns the crop's pixels and geometry. */
export async function alignFace(file: string, opts: AlignOptions): Promise<AlignedFace> {
  const pic = await decode(file);
  const face = await detectIn(pic, file, opts);
  const alignment = alignmentFor(face.landmarks, opts);
  const rgb = tf.tidy(() => {
    const image = tf.tensor4d(new Float32Array(pic.data), [1, pic.height, pic.width, 3]);
    const warped = tf.image.transform(image, tf.tensor2d([[...alignment.affine, 0, 0]]), 'bilinear', 'nearest', 0, [opts.size, opts.size]);
    return warped.round().clipByValue(0, 255).toInt();
  });
  const bytes = Buffer.from(Uint8Array.from(await rgb.data()));
  rgb.dispose();
  // channel conversion through sharp, exactly as readImage does it
  let img = sharp(bytes, { raw: { width: opts.size, height: opts.size, channels: 3 } });
  img = opts.channels === 1 ? img.grayscale() : img.toColourspace('srgb');
  const { data } = await img.raw().toBuffer({ resolveWithObject: true });
  const pixels = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) pixels[i] = data[i] / 255;
  return { file, ...face, ...alignment, eyes: eyeCentres(face.landmarks), pixels };
}
