/**
 * Reads one image file into a normalised float array with sharp: optional
 * crop, resize to a square, grayscale or RGB, values in [0, 1].
 * @see notebooks/01-data-and-preprocessing.ipynb
 */
import * as fs from 'fs';
import sharp from 'sharp';

export interface ImageOptions {
  /** side of the square output, in pixels */
  size: number;
  /** 1 = grayscale, 3 = RGB */
  channels: 1 | 3;
  /** region to cut out first, in source pixels (e.g. landmark bounds) */
  crop?: { left: number; top: number; width: number; height: number };
}

/** Pixels as [size, size, channels] in [0, 1], row-major (NHWC without N). */
export async function readImage(file: string, opts: ImageOptions): Promise<Float32Array> {
  if (!fs.existsSync(file)) throw new Error(`image not found: ${file}`);
  let img = sharp(file, { failOn: 'error' }).removeAlpha();
  try {
    if (opts.crop) {
      const c = opts.crop;
      img = img.extract({ left: Math.round(c.left), top: Math.round(c.top), width: Math.round(c.width), height: Math.round(c.height) });
    }
    img = img.resize(opts.size, opts.size, { fit: 'fill' });
    img = opts.channels === 1 ? img.grayscale() : img.toColourspace('srgb');
    const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== opts.channels) throw new Error(`got ${info.channels} channels, expected ${opts.channels}`);
    const out = new Float32Array(data.length);
    for (let i = 0; i < data.length; i++) out[i] = data[i] / 255;
    return out;
  } catch (e) {
    throw new Error(`cannot read image ${file}: ${(e as Error).message}`);
  }
}
