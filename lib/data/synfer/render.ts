/**
 * SynFER drawing: a subject's face at given action-unit activations and view
 * (head pose, illumination, framing) as SVG, rasterised with sharp, then
 * finished in pixel space (per-frame brightness/contrast, blur, sensor noise,
 * corruptions). Everything is seeded, so the same inputs give the same bytes.
 * @see notebooks/01-data-and-preprocessing.ipynb
 */
import sharp from 'sharp';
import { gaussian, rng, uniform } from '../random';
import type { ActionUnit, Rgb, Subject } from './face';

export const LIGHT_DIRECTIONS = ['frontal', 'left', 'right', 'top', 'bottom'] as const;
export type LightDirection = (typeof LIGHT_DIRECTIONS)[number];
export const CORRUPTIONS = ['none', 'patch', 'blur', 'noise'] as const;
export type Corruption = (typeof CORRUPTIONS)[number];

/** Where the face is seen from and how it is lit (canvas units are 1/100 of the side). */
export interface View {
  yaw: number; // degrees, positive = face turned to the image's right
  pitch: number; // degrees, positive = face tilted up
  roll: number; // degrees, in-plane, clockwise
  shiftX: number; // canvas units
  shiftY: number;
  light: LightDirection;
  lightStrength: number; // 0 = even light, 1 = strong side shadow
  background: number; // grey level 0..255
}

/** Pixel-space finishing applied after rasterisation. */
export interface Finish {
  brightness: number; // additive, on the [0, 1] scale
  contrast: number; // multiplicative around mid-grey
  blur: number; // Gaussian sigma in pixels of a 64-px image (scaled with size)
  noise: number; // std of additive Gaussian noise on [0, 1]
  corruption: Corruption;
  /** names the random stream of the noise and the corruption */
  key: string;
}

/** Normalised [0, 1] boxes of the expression regions (for attention checks). */
export interface Roi {
  eyes: [number, number, number, number]; // x0, y0, x1, y1: brows and eyes
  mouth: [number, number, number, number];
}

export const FRONTAL_VIEW: View = { yaw: 0, pitch: 0, roll: 0, shiftX: 0, shiftY: 0, light: 'frontal', lightStrength: 0, background: 128 };
export const CLEAN: Omit<Finish, 'key'> = { brightness: 0, contrast: 1, blur: 0, noise: 0, corruption: 'none' };

const rgb = (c: Rgb) => `rgb(${c.map(Math.round).join(',')})`;
const mix = (a: Rgb, b: Rgb, t: number): Rgb => a.map((v, i) => v + (b[i] - v) * t) as Rgb;
const clamp = (v: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, v));
const f1 = (v: number) => (Math.round(v * 100) / 100).toString();
const DARK: Rgb = [40, 30, 30];
/**
 * The part of the 100 x 100 canvas an image shows: brows to chin and cheek
 * to cheek, as in landmark-cropped datasets, so the expression regions get
 * as many pixels as they would in a real face crop.
 */
const VIEWBOX = [19, 22, 62, 62] as const;
/** Canvas units across the image (shifts in pixels = units * size / VIEW_SIDE). */
export const VIEW_SIDE = VIEWBOX[2];
/** Thinnest stroke, in output pixels: thinner lines fade into the skin when rasterised at lite sizes. */
const MIN_STROKE_PX = 0.8;

/**
 * SVG of one face, and the regions of interest in image coordinates.
 * @param a action-unit activations (rest + intensity * prototype)
 */
export function faceSvg(s: Subject, a: Record<ActionUnit, number>, view: View, size: number): { svg: string; roi: Roi } {
  const cx = 50, cy = 50;
  const yaw = (view.yaw * Math.PI) / 180, pitch = (view.pitch * Math.PI) / 180;
  // Features sit in front of the head's centre (depth z), so yaw and pitch move them
  // across the face while the silhouette barely moves.
  const P = (x: number, y: number, z: number): [number, number] =>
    [cx + (x - cx) * Math.cos(yaw) + z * Math.sin(yaw), cy + (y - cy) * Math.cos(pitch) - z * Math.sin(pitch)];
  const O = (x: number, y: number): [number, number] =>
    [cx + (x - cx) * (0.6 + 0.4 * Math.cos(yaw)) + 2 * Math.sin(yaw), cy + (y - cy) * (0.6 + 0.4 * Math.cos(pitch)) - 2 * Math.sin(pitch)];
  const pt = (p: [number, number]) => `${f1(p[0])} ${f1(p[1])}`;
  const roiEyes: [number, number][] = [];
  const roiMouth: [number, number][] = [];
  const W = s.faceWidth, H = s.faceHeight + 2.5 * Math.max(0, a.jawDrop);
  const skinDark = mix(s.skin, [60, 40, 30], 0.35);
  const parts: string[] = [];
  const thinnest = (MIN_STROKE_PX * VIEWBOX[2]) / size;
  const line = (pts: [number, number][], width: number, color: Rgb, opacity = 1) => {
    width = Math.max(width, thinnest);
    if (opacity <= 0.02) return;
    const [p0, ...rest] = pts;
    let d = `M${pt(p0)}`;
    if (rest.length === 2) d += ` Q${pt(rest[0])} ${pt(rest[1])}`;
    else for (const p of rest) d += ` L${pt(p)}`;
    parts.push(`<path d="${d}" stroke="${rgb(color)}" stroke-width="${f1(width)}" stroke-opacity="${f1(clamp(opacity, 0, 1))}" fill="none" stroke-linecap="round"/>`);
  };

  // Face outline: an ellipse whose lower half narrows towards the chin.
  const outline: [number, number][] = [];
  for (let i = 0; i < 32; i++) {
    const t = (i / 32) * 2 * Math.PI;
    const down = Math.max(0, Math.cos(t));
    const x = cx + W * Math.sin(t) * (1 - (1 - s.jaw) * down ** 1.6);
    const y = cy + 2 + H * Math.cos(t);
    outline.push(O(x, y));
  }
  const outlinePath = 'M' + outline.map(pt).join(' L') + ' Z';
  const hairTop = O(cx, cy + 2 - H);

  // Hair behind the head, ears.
  if (s.longHair) {
    const a0 = O(cx - W - 4, cy - H * 0.4), b0 = O(cx + W + 4, cy + H * 0.55);
    parts.push(`<rect x="${f1(a0[0])}" y="${f1(a0[1])}" width="${f1(b0[0] - a0[0])}" height="${f1(b0[1] - a0[1])}" rx="6" fill="${rgb(s.hair)}"/>`);
  }
  parts.push(`<ellipse cx="${f1(hairTop[0])}" cy="${f1(cy - H * 0.35)}" rx="${f1(W + 2.5)}" ry="${f1(H * 0.72)}" fill="${rgb(s.hair)}"/>`);
  for (const side of [-1, 1]) {
    const e = P(cx + side * W, s.eyeY + 5, -8);
    parts.push(`<ellipse cx="${f1(e[0])}" cy="${f1(e[1])}" rx="3" ry="6" fill="${rgb(skinDark)}"/>`);
  }
  parts.push(`<path d="${outlinePath}" fill="${rgb(s.skin)}"/>`);

  // Everything below is clipped to the face.
  const inner: string[] = [];
  const flush = () => { inner.push(...parts.splice(0)); };
  flush();

  // Hairline (low with bangs, which then cover the forehead).
  const hairline = s.bangs ? s.eyeY - s.browGap - 2.5 : cy + 2 - H + 0.3 * H - 2 * s.wrinkles * (s.gender === 'male' ? 1 : 0);
  const hl = [O(cx - W - 3, hairline + 4), O(cx - W * 0.4, hairline - (s.bangs ? 0 : 1.5)), O(cx + W * 0.4, hairline - (s.bangs ? 0 : 1.5)), O(cx + W + 3, hairline + 4)];
  const top = O(cx, cy - H - 10);
  parts.push(`<path d="M${pt(hl[0])} C${pt(hl[1])} ${pt(hl[2])} ${pt(hl[3])} L${f1(hl[3][0])} ${f1(top[1])} L${f1(hl[0][0])} ${f1(top[1])} Z" fill="${rgb(s.hair)}"/>`);

  // Forehead lines: age (static) and raised brows (AU1+2).
  const foreheadLines = clamp(0.35 * (Math.max(0, a.browRaiseInner) + Math.max(0, a.browRaiseOuter)) + 0.45 * s.wrinkles, 0, 1);
  if (!s.bangs) {
    for (let k = 0; k < 3; k++) {
      const y = s.eyeY - s.browGap - 4 - 2.2 * k;
      line([P(cx - 8, y + 0.6, 12), P(cx, y - 0.4, 13), P(cx + 8, y + 0.6, 12)], 0.5, skinDark, foreheadLines * (1 - 0.25 * k));
    }
  }

  // Eyes, brows, crow's feet.
  const ew = s.eyeSize;
  const open = clamp(s.eyeAperture * (1 + 0.7 * a.lidRaise - 0.65 * a.lidTighten - 0.35 * a.cheekRaise), 0.08, 1.1) * ew;
  const lower = ew * 0.32 * clamp(1 - 0.6 * a.cheekRaise - 0.2 * a.lidTighten, 0.3, 1.3);
  for (const side of [-1, 1]) {
    const ex = cx + side * s.eyeSpacing, ey = s.eyeY;
    const inC = P(ex - side * ew, ey, 14), outC = P(ex + side * ew, ey, 13);
    const upC = P(ex, ey - 2 * open, 15), loC = P(ex, ey + 2 * lower, 15);
    parts.push(`<path d="M${pt(inC)} Q${pt(upC)} ${pt(outC)} Q${pt(loC)} ${pt(inC)} Z" fill="rgb(238,236,230)" stroke="${rgb(DARK)}" stroke-width="${f1(Math.max(0.7, thinnest))}"/>`);
    const iris = P(ex, ey + 0.2, 15);
    const ir = Math.min(ew * 0.45, open + lower * 0.6) * Math.cos(yaw) ** 0.5;
    parts.push(`<circle cx="${f1(iris[0])}" cy="${f1(iris[1])}" r="${f1(ir)}" fill="${rgb(s.iris)}"/>`);
    parts.push(`<circle cx="${f1(iris[0])}" cy="${f1(iris[1])}" r="${f1(ir * 0.45)}" fill="rgb(15,10,10)"/>`);
    // Lids drawn again on top so a narrow aperture cuts the iris.
    const lidTop = P(ex, ey - 2 * open - 2.2, 15);
    parts.push(`<path d="M${pt(inC)} Q${pt(upC)} ${pt(outC)} Q${pt(lidTop)} ${pt(inC)} Z" fill="${rgb(s.skin)}"/>`);
    parts.push(`<path d="M${pt(inC)} Q${pt(loC)} ${pt(outC)} Q${pt(P(ex, ey + 2 * lower + 2, 15))} ${pt(inC)} Z" fill="${rgb(s.skin)}"/>`);
    line([inC, upC, outC], 0.9, DARK);
    line([P(ex - side * ew * 0.8, ey + lower + 1.6, 14), P(ex, ey + lower + 2.6 + 0.6 * a.cheekRaise, 14), P(ex + side * ew * 0.9, ey + lower + 1.4, 13)],
      0.5, skinDark, 0.25 + 0.7 * Math.max(0, a.cheekRaise) + 0.3 * s.wrinkles);
    for (const dy of [-1.2, 0.8]) {
      line([P(ex + side * (ew + 1), ey + dy * 0.5, 12), P(ex + side * (ew + 3.2), ey + dy * 1.6, 11)], 0.4, skinDark, 0.6 * s.wrinkles + 0.5 * Math.max(0, a.cheekRaise));
    }
    // Brow: inner end rises with AU1, outer with AU2; AU4 pulls it down and in.
    const gap = s.browGap;
    const inner0: [number, number, number] = [ex - side * (ew * 0.8 + 1.4 * a.browLower), ey - gap - 4 * a.browRaiseInner + 3 * a.browLower, 15];
    const outer0: [number, number, number] = [ex + side * ew * 1.35, ey - gap + 0.8 - 3.8 * a.browRaiseOuter + 1 * a.browLower, 13];
    const mid0: [number, number, number] = [ex + side * ew * 0.35, (inner0[1] + outer0[1]) / 2 - 2 - 0.8 * a.browRaiseOuter, 15];
    const brow = [P(...inner0), P(...mid0), P(...outer0)];
    line(brow, s.browThickness, mix(s.hair, DARK, 0.5));
    roiEyes.push(...brow, inC, outC, upC, loC);
  }
  // Glabella lines (AU4) between the brows.
  const glab = clamp(0.8 * a.browLower + 0.15 * s.wrinkles, 0, 1);
  for (const side of [-1, 1]) line([P(cx + side * 1.3, s.eyeY - s.browGap + 1, 16), P(cx + side * 1.6, s.eyeY - s.browGap - 3.5, 16)], 0.45, skinDark, glab);

  // Nose, with AU9 wrinkles on the bridge.
  const tipY = s.eyeY + s.noseLength;
  const wingY = tipY - 1 - 1.2 * Math.max(0, a.upperLipRaise) - 0.8 * Math.max(0, a.noseWrinkle);
  line([P(cx - 1.8, s.eyeY + 2, 18), P(cx - 2.2, tipY - 3, 22), P(cx - s.noseWidth * 0.5, wingY, 22)], 0.6, skinDark, 0.6);
  line([P(cx - s.noseWidth, wingY - 0.5, 19), P(cx, tipY + 1.8, 25), P(cx + s.noseWidth, wingY - 0.5, 19)], 0.8, skinDark, 0.9);
  for (let k = 0; k < 2; k++) {
    const y = s.eyeY + 2.5 + 1.6 * k;
    line([P(cx - 2.6, y, 18), P(cx, y - 0.5, 19), P(cx + 2.6, y, 18)], 0.45, skinDark, clamp(a.noseWrinkle, 0, 1));
  }

  // Mouth: corners move with AU12/AU15 (AU14 on one side only), width with AU20/AU23,
  // opening with AU26 and AU10.
  const my = tipY + s.mouthGap;
  const mw = s.mouthWidth * (1 + 0.25 * a.lipCornerPull + 0.35 * a.lipStretch - 0.25 * a.lipPress - 0.12 * a.jawDrop);
  const cornerY = (side: number) => my - 4 * a.lipCornerPull + 3.5 * a.lipCornerDepress - (side > 0 ? 3.8 * a.dimpler : 0);
  const L = P(cx - mw, cornerY(-1), 14), R = P(cx + mw + 0.8 * a.dimpler, cornerY(1), 14);
  const opening = 7 * Math.max(0, a.jawDrop) + 1.5 * Math.max(0, a.upperLipRaise);
  const lt = s.lipThickness * clamp(1 - 0.6 * a.lipPress, 0.3, 1.2);
  const upperOut = P(cx, my - lt - 1.6 * Math.max(0, a.upperLipRaise), 16), lowerOut = P(cx, my + opening + lt * 1.4, 16);
  const lip = mix(s.skin, [170, 70, 70], 0.4);
  parts.push(`<path d="M${pt(L)} Q${pt(upperOut)} ${pt(R)} Q${pt(lowerOut)} ${pt(L)} Z" fill="${rgb(lip)}"/>`);
  if (opening > 0.4) {
    const ui = P(cx, my - 0.5 * Math.max(0, a.upperLipRaise), 16), li = P(cx, my + opening, 16);
    parts.push(`<path d="M${pt(L)} Q${pt(ui)} ${pt(R)} Q${pt(li)} ${pt(L)} Z" fill="rgb(50,20,20)"/>`);
  } else {
    line([L, P(cx, my + 0.3, 16), R], 0.7, mix(lip, DARK, 0.5));
  }
  roiMouth.push(L, R, upperOut, lowerOut);

  // Nasolabial folds: resting depth, smiles (AU12), AU9/AU10; jowls with age.
  const fold = clamp(0.5 * a.nasolabial + 0.45 * Math.max(0, a.lipCornerPull) + 0.4 * Math.max(0, a.noseWrinkle) + 0.3 * Math.max(0, a.upperLipRaise) + 0.25 * s.wrinkles, 0, 1);
  for (const side of [-1, 1]) {
    const c = side > 0 ? R : L;
    line([P(cx + side * (s.noseWidth + 1), wingY, 17), P(cx + side * (s.noseWidth + 4), (wingY + my) / 2, 14), [c[0] + side * 2, c[1] + 1.5]], 0.6, skinDark, fold);
    line([[c[0] + side * 1.5, c[1] + 3], P(cx + side * (mw + 2.5), my + 9, 10)], 0.5, skinDark, s.wrinkles > 0.5 ? 0.6 * s.wrinkles : 0);
  }

  // Occluders that belong to the subject.
  if (s.beard) {
    const by = Math.max(lowerOut[1], my + opening) + 1.8;
    parts.push(`<path d="M${f1(cx - W - 5)} ${f1(by - 3)} Q${f1(cx)} ${f1(by + 2)} ${f1(cx + W + 5)} ${f1(by - 3)} L${f1(cx + W + 5)} 100 L${f1(cx - W - 5)} 100 Z" fill="${rgb(s.hair)}" fill-opacity="0.92"/>`);
    line([P(cx - mw - 1, my - lt - 1, 15), P(cx, my - lt - 2.6, 17), P(cx + mw + 1, my - lt - 1, 15)], 1.6, s.hair, 0.92);
  }
  const clipped = parts.splice(0);
  if (s.glasses) {
    for (const side of [-1, 1]) {
      const c = P(cx + side * s.eyeSpacing, s.eyeY, 17);
      parts.push(`<ellipse cx="${f1(c[0])}" cy="${f1(c[1])}" rx="${f1((ew + 2.4) * Math.cos(yaw) ** 0.7)}" ry="${f1(ew * 0.9 + 1.4)}" fill="rgb(255,255,255)" fill-opacity="0.12" stroke="rgb(25,25,25)" stroke-width="1"/>`);
    }
    line([P(cx - s.eyeSpacing + ew + 2.2, s.eyeY - 0.5, 18), P(cx, s.eyeY - 1.5, 19), P(cx + s.eyeSpacing - ew - 2.2, s.eyeY - 0.5, 18)], 0.9, [25, 25, 25]);
  }

  // Session illumination: a shadow across the face from the light's far side.
  const st = clamp(view.lightStrength, 0, 1);
  let light = '';
  if (st > 0) {
    if (view.light === 'frontal') {
      light = `<radialGradient id="l" cx="0.5" cy="0.45" r="0.6"><stop offset="0" stop-color="#fff" stop-opacity="${f1(0.15 * st)}"/><stop offset="1" stop-color="#000" stop-opacity="${f1(0.55 * st)}"/></radialGradient>`;
    } else {
      const [x1, y1, x2, y2] = { left: [0, 0, 1, 0], right: [1, 0, 0, 0], top: [0, 0, 0, 1], bottom: [0, 1, 0, 0] }[view.light];
      light = `<linearGradient id="l" x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}"><stop offset="0" stop-color="#fff" stop-opacity="${f1(0.18 * st)}"/><stop offset="0.45" stop-color="#000" stop-opacity="0"/><stop offset="1" stop-color="#000" stop-opacity="${f1(0.75 * st)}"/></linearGradient>`;
    }
  }
  const transform = `translate(${f1(view.shiftX)} ${f1(view.shiftY)}) rotate(${f1(view.roll)} ${cx} ${cy})`;
  const bg = Math.round(clamp(view.background, 0, 255));
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="${VIEWBOX.join(' ')}">` +
    `<defs><clipPath id="f"><path d="${outlinePath}"/></clipPath>${light}</defs>` +
    `<rect width="100" height="100" fill="rgb(${bg},${bg},${bg})"/>` +
    `<g transform="${transform}">${inner.join('')}<g clip-path="url(#f)">${clipped.join('')}</g>${parts.join('')}</g>` +
    (light ? '<rect width="100" height="100" fill="url(#l)"/>' : '') + '</svg>';

  // Regions of interest through the same roll and shift as the drawing.
  const rad = (view.roll * Math.PI) / 180;
  const box = (pts: [number, number][], margin: number): [number, number, number, number] => {
    const moved = pts.map(([x, y]) => [
      cx + (x - cx) * Math.cos(rad) - (y - cy) * Math.sin(rad) + view.shiftX,
      cy + (x - cx) * Math.sin(rad) + (y - cy) * Math.cos(rad) + view.shiftY,
    ]);
    const xs = moved.map((p) => p[0]), ys = moved.map((p) => p[1]);
    const r = (v: number, o: number) => Math.round(clamp((v - o) / VIEWBOX[2], 0, 1) * 1000) / 1000;
    const [ox, oy] = VIEWBOX;
    return [r(Math.min(...xs) - margin, ox), r(Math.min(...ys) - margin, oy), r(Math.max(...xs) + margin, ox), r(Math.max(...ys) + margin, oy)];
  };
  return { svg, roi: { eyes: box(roiEyes, 1.5), mouth: box(roiMouth, 1.5) } };
}

/**
 * Rasterises an SVG and finishes it in pixel space; returns PNG bytes.
 * @param channels 1 = grey, 3 = colour
 */
export async function rasterise(svg: string, size: number, channels: 1 | 3, finish: Finish): Promise<Buffer> {
  const scale = size / 64;
  const blur = (finish.blur + (finish.corruption === 'blur' ? 2.5 : 0)) * scale;
  let img = sharp(Buffer.from(svg)).removeAlpha();
  if (blur >= 0.3) img = img.blur(blur);
  if (channels === 1) img = img.grayscale();
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== channels) throw new Error(`rasterised ${info.channels} channels, expected ${channels}`);
  const r = rng(0, 'finish', finish.key);
  const noise = finish.noise + (finish.corruption === 'noise' ? 0.15 : 0);
  let patch: number[] | null = null;
  if (finish.corruption === 'patch') {
    // A flat occluder over 30-45 % of the side, somewhere on the inner face.
    const side = Math.round(size * uniform(r, 0.3, 0.45));
    const x0 = Math.round(uniform(r, 0.2, 0.8) * size - side / 2), y0 = Math.round(uniform(r, 0.25, 0.8) * size - side / 2);
    patch = [x0, y0, side, Math.round(uniform(r, 0, 255))];
  }
  const out = Buffer.alloc(data.length);
  for (let y = 0, i = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const inPatch = patch && x >= patch[0] && x < patch[0] + patch[2] && y >= patch[1] && y < patch[1] + patch[2];
      for (let c = 0; c < channels; c++, i++) {
        let v = inPatch ? patch![3] / 255 : data[i] / 255;
        v = (v - 0.5) * finish.contrast + 0.5 + finish.brightness;
        if (noise > 0) v += noise * gaussian(r);
        out[i] = Math.round(clamp(v, 0, 1) * 255);
      }
    }
  }
  const png = sharp(out, { raw: { width: size, height: size, channels } });
  return (channels === 1 ? png.toColourspace('b-w') : png).png({ compressionLevel: 6 }).toBuffer();
}
