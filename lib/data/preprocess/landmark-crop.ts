/**
 * Crop boxes from facial landmarks. SPNDL crops CK+ and Oulu-CASIA faces to
 * the box spanned by the extreme landmark points (its Sec. 4.2); for GNDL we
 * make that box square around its centre (our choice; GNDL Sec. 4.2 only
 * says the face is detected and cropped). Boxes are in source pixels and
 * feed lib/data/image.ts: `readImage(file, { size, channels, crop: box })`.
 * @see notebooks/01-data-and-preprocessing.ipynb
 */
import type { ManifestRow } from '../manifest';

export interface Point { x: number; y: number }
export interface Box { left: number; top: number; width: number; height: number }

/** The box spanned by the left-, right-, top- and bottom-most points (real-valued, no margin). */
export function landmarkBounds(points: readonly Point[]): Box {
  if (points.length === 0) throw new Error('landmarkBounds: no landmark points');
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const p of points) {
    if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) throw new Error(`landmarkBounds: point (${p.x}, ${p.y}) is not finite`);
    x0 = Math.min(x0, p.x); y0 = Math.min(y0, p.y); x1 = Math.max(x1, p.x); y1 = Math.max(y1, p.y);
  }
  return { left: x0, top: y0, width: x1 - x0, height: y1 - y0 };
}

/** Whole pixels covering the box (rounded outwards), clipped to the image; at least 1x1. */
export function clampBox(box: Box, imageWidth: number, imageHeight: number): Box {
  const left = Math.min(Math.max(Math.floor(box.left), 0), imageWidth - 1);
  const top = Math.min(Math.max(Math.floor(box.top), 0), imageHeight - 1);
  const right = Math.max(Math.min(Math.ceil(box.left + box.width), imageWidth), left + 1);
  const bottom = Math.max(Math.min(Math.ceil(box.top + box.height), imageHeight), top + 1);
  return { left, top, width: right - left, height: bottom - top };
}

export interface SquareCropOptions {
  /** added on every side, as a fraction of the box's longer side (0.1 -> 1.2x the side); default 0 */
  margin?: number;
  imageWidth: number;
  imageHeight: number;
}

/**
 * A square of whole pixels centred on the box, grown by the margin, then
 * moved (not squashed) to lie inside the image; it shrinks only when the
 * image itself is smaller than the square.
 */
export function squareCropBox(bounds: Box, opts: SquareCropOptions): Box {
  const margin = opts.margin ?? 0;
  if (!(margin >= 0)) throw new Error(`squareCropBox: margin ${margin} must be >= 0`);
  const { imageWidth: W, imageHeight: H } = opts;
  const side = Math.max(1, Math.min(Math.round(Math.max(bounds.width, bounds.height) * (1 + 2 * margin)), W, H));
  const cx = bounds.left + bounds.width / 2;
  const cy = bounds.top + bounds.height / 2;
  const left = Math.min(Math.max(Math.round(cx - side / 2), 0), W - side);
  const top = Math.min(Math.max(Math.round(cy - side / 2), 0), H - side);
  return { left, top, width: side, height: side };
}

/** 68 (or any number of) landmarks -> a square crop box with a margin, inside the image. */
export function landmarkCropBox(points: readonly Point[], opts: SquareCropOptions): Box {
  return squareCropBox(landmarkBounds(points), opts);
}

export interface RowCropOptions {
  /** the row's own image ('target', columns crop_*) or its neutral reference (neutral_crop_*) */
  which?: 'target' | 'neutral';
  /**
   * make the recorded landmark bounds square (needs the width/height columns;
   * a neutral frame shares its sequence's image size); default false = SPNDL's box as is
   */
  square?: boolean;
  margin?: number;
}

/**
 * The crop box a reader recorded for a manifest row (CK+ writes the
 * landmark bounds as crop_left/top/width/height, and neutral_crop_* for its
 * reference frame), or undefined when the row has none.
 */
export function cropBoxFromRow(row: ManifestRow, opts: RowCropOptions = {}): Box | undefined {
  const prefix = opts.which === 'neutral' ? 'neutral_crop_' : 'crop_';
  const keys = ['left', 'top', 'width', 'height'] as const;
  if (keys.every((k) => row[prefix + k] === undefined || row[prefix + k] === '')) return undefined;
  const v = keys.map((k) => Number(row[prefix + k]));
  if (v.some((x) => !Number.isFinite(x))) throw new Error(`${row.path}: ${prefix}* columns are not all numbers (${v.join(', ')})`);
  const box: Box = { left: v[0], top: v[1], width: v[2], height: v[3] };
  if (!opts.square) return box;
  const W = Number(row.width), H = Number(row.height);
  if (!(W > 0 && H > 0)) throw new Error(`${row.path}: a square crop needs the width and height columns (write the manifest with image verification on)`);
  return squareCropBox(box, { margin: opts.margin, imageWidth: W, imageHeight: H });
}
