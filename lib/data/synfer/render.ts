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
const pos = (v: number) => Math.max(0, v);
const f1 = (v: number) => (Math.round(v * 100) / 100).toString();
const luma = (c: Rgb) => 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];
/** `c` made darker than `skin` by at least `delta` grey levels (creases and brows stay visible on dark skin in grey). */
const darkerThan = (skin: Rgb, c: Rgb, delta: number): Rgb => {
  const target = Math.max(12, luma(skin) - delta);
  const l = luma(c);
  return l <= target ? c : c.map((v) => v * (target / Math.max(l, 1))) as Rgb;
};
const DARK: Rgb = [35, 25, 25];
/**
 * The part of the 100 x 100 canvas an image shows: brows to chin and cheek
 * to cheek, as in landmark-cropped datasets, so the expression regions get
 * as many pixels as they would in a real face crop.
 */
const VIEWBOX = [19, 22, 62, 62] as const;
/** Canvas units across the image (shifts in pixels = units * size / VIEW_SIDE). */
export const VIEW_SIDE = VIEWBOX[2];
/**
 * Thinnest stroke, in canvas units: 1.5 px at 32 px. Every size and movement
 * is in canvas units, so strokes and displacements scale with the image.
 */
export const STROKE = (1.5 * VIEW_SIDE) / 32;

/**
 * SVG of one face, and the regions of interest in image coordinates.
 * Expressions move features by several pixels at 32 px (brows up to 3 px,
 * lip corners 3 px, a dropped jaw 6 px) and open the mouth on dark
 * interior and white teeth, so each class reads at the lite image size.
 * @param a action-unit activations (rest + intensity * prototype)
 * @param size output side in pixels (the drawing itself is resolution-free)
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
  const W = s.faceWidth, H = s.faceHeight + 4 * pos(a.jawDrop);
  const crease = darkerThan(s.skin, mix(s.skin, DARK, 0.5), 70); // wrinkles and folds
  const browColor = darkerThan(s.skin, mix(s.hair, DARK, 0.55), 90);
  const parts: string[] = [];
  const path = (d: string, fill: Rgb | string, extra = '') =>
    parts.push(`<path d="${d}" fill="${typeof fill === 'string' ? fill : rgb(fill)}"${extra}/>`);
  const line = (pts: [number, number][], width: number, color: Rgb, opacity = 1) => {
    if (opacity <= 0.03) return;
    const [p0, ...rest] = pts;
    let d = `M${pt(p0)}`;
    if (rest.length === 2) d += ` Q${pt(rest[0])} ${pt(rest[1])}`;
    else for (const p of rest) d += ` L${pt(p)}`;
    parts.push(`<path d="${d}" stroke="${rgb(color)}" stroke-width="${f1(Math.max(width, STROKE))}" stroke-opacity="${f1(clamp(opacity, 0, 1))}" fill="none" stroke-linecap="round"/>`);
  };

  // Face outline: an ellipse whose lower half narrows towards the chin.
  const outline: [number, number][] = [];
  for (let i = 0; i < 32; i++) {
    const t = (i / 32) * 2 * Math.PI;
    const down = Math.max(0, Math.cos(t));
    const x = cx + W * Math.sin(t) * (1 - (1 - s.jaw) * down ** 1.6);
    const y = cy + 2 + (Math.cos(t) > 0 ? H : s.faceHeight) * Math.cos(t);
    outline.push(O(x, y));
  }
  const outlinePath = 'M' + outline.map(pt).join(' L') + ' Z';
  const hairTop = O(cx, cy + 2 - s.faceHeight);

  // Hair behind the head, ears.
  if (s.longHair) {
    const a0 = O(cx - W - 4, cy - s.faceHeight * 0.4), b0 = O(cx + W + 4, cy + s.faceHeight * 0.55);
    parts.push(`<rect x="${f1(a0[0])}" y="${f1(a0[1])}" width="${f1(b0[0] - a0[0])}" height="${f1(b0[1] - a0[1])}" rx="6" fill="${rgb(s.hair)}"/>`);
  }
  parts.push(`<ellipse cx="${f1(hairTop[0])}" cy="${f1(cy - s.faceHeight * 0.35)}" rx="${f1(W + 2.5)}" ry="${f1(s.faceHeight * 0.72)}" fill="${rgb(s.hair)}"/>`);
  for (const side of [-1, 1]) {
    const e = P(cx + side * W, s.eyeY + 5, -8);
    parts.push(`<ellipse cx="${f1(e[0])}" cy="${f1(e[1])}" rx="3" ry="6" fill="${rgb(mix(s.skin, DARK, 0.25))}"/>`);
  }
  path(outlinePath, s.skin);

  // Everything below is clipped to the face.
  const inner = parts.splice(0);

  // Hairline, high enough to leave the forehead's creases in view.
  const hairline = cy + 2 - s.faceHeight + 0.22 * s.faceHeight - 2 * s.wrinkles * (s.gender === 'male' ? 1 : 0);
  const hl = [O(cx - W - 3, hairline + 4), O(cx - W * 0.4, hairline - 1.5), O(cx + W * 0.4, hairline - 1.5), O(cx + W + 3, hairline + 4)];
  const top = O(cx, cy - H - 10);
  path(`M${pt(hl[0])} C${pt(hl[1])} ${pt(hl[2])} ${pt(hl[3])} L${f1(hl[3][0])} ${f1(top[1])} L${f1(hl[0][0])} ${f1(top[1])} Z`, s.hair);

  // Forehead creases: age (static) and raised brows (AU1+2).
  const browY = s.eyeY - s.browGap;
  const forehead = clamp(0.55 * (pos(a.browRaiseInner) + pos(a.browRaiseOuter)) + 0.35 * s.wrinkles, 0, 1);
  for (let k = 0; k < 2; k++) {
    const y = browY - 8.5 - 4.2 * k;
    line([P(cx - 10, y + 1, 12), P(cx, y - 0.8, 13), P(cx + 10, y + 1, 12)], STROKE, crease, forehead * (1 - 0.3 * k));
  }

  // Eyes: the upper lid rises with AU5 and falls with AU7 and AU6; the raised cheek (AU6) pushes the lower lid up.
  const ew = s.eyeSize;
  const up = clamp(ew * s.eyeAperture * (1 + 1.1 * a.lidRaise - 0.75 * a.lidTighten - 0.4 * pos(a.cheekRaise)), 0.4, 7);
  const low = clamp(ew * 0.3 * (1 + 0.5 * a.lidRaise - 0.7 * pos(a.cheekRaise) - 0.4 * a.lidTighten), 0.3, 3.5);
  const irisColor = mix(s.iris, DARK, 0.45);
  for (const side of [-1, 1]) {
    const ex = cx + side * s.eyeSpacing, ey = s.eyeY;
    const inC = P(ex - side * ew, ey, 14), outC = P(ex + side * ew, ey - 0.4, 13);
    const upC = P(ex, ey - 2 * up, 15), loC = P(ex, ey + 2 * low, 15);
    path(`M${pt(inC)} Q${pt(upC)} ${pt(outC)} Q${pt(loC)} ${pt(inC)} Z`, [240, 238, 232]);
    const iris = P(ex, ey + 0.3, 15);
    const ir = ew * 0.45 * Math.cos(yaw) ** 0.5;
    parts.push(`<circle cx="${f1(iris[0])}" cy="${f1(iris[1])}" r="${f1(ir)}" fill="${rgb(irisColor)}"/>`);
    parts.push(`<circle cx="${f1(iris[0])}" cy="${f1(iris[1])}" r="${f1(ir * 0.5)}" fill="rgb(10,8,8)"/>`);
    // Lids drawn again on top, so a narrow aperture cuts the iris.
    path(`M${pt(inC)} Q${pt(upC)} ${pt(outC)} Q${pt(P(ex, ey - 2 * up - 6, 15))} ${pt(inC)} Z`, s.skin);
    path(`M${pt(inC)} Q${pt(loC)} ${pt(outC)} Q${pt(P(ex, ey + 2 * low + 5, 15))} ${pt(inC)} Z`, s.skin);
    line([inC, upC, outC], STROKE, DARK); // lash line
    // Raised cheek: a crease under the eye and crow's feet at its outer corner.
    const cheek = clamp(pos(a.cheekRaise) + 0.3 * s.wrinkles, 0, 1);
    line([P(ex - side * ew * 0.7, ey + low + 2.6, 14), P(ex, ey + low + 4.2, 14), P(ex + side * ew * 0.8, ey + low + 2.2, 13)], STROKE, crease, cheek);
    line([P(ex + side * (ew + 1.8), ey - 1, 12), P(ex + side * (ew + 4.5), ey - 2.5, 11)], STROKE, crease, 0.9 * cheek);
    line([P(ex + side * (ew + 1.8), ey + 1.5, 12), P(ex + side * (ew + 4.5), ey + 3, 11)], STROKE, crease, 0.9 * cheek);
    // Brow: the inner end rises with AU1, the outer with AU2; AU4 pulls the brow down and in.
    const inner0: [number, number, number] = [ex - side * (ew * 0.8 - 2.2 * a.browLower), browY - 6 * a.browRaiseInner + 4.5 * a.browLower, 15];
    const outer0: [number, number, number] = [ex + side * ew * 1.3, browY + 0.5 - 5.5 * a.browRaiseOuter + 1.2 * a.browLower, 13];
    const arch = 2.2 + 1.8 * pos(a.browRaiseOuter) - 1.2 * pos(a.browLower);
    const mid0: [number, number, number] = [ex + side * ew * 0.25, (inner0[1] + outer0[1]) / 2 - arch, 15];
    const brow = [P(...inner0), P(...mid0), P(...outer0)];
    line(brow, s.browThickness, browColor);
    roiEyes.push(...brow, inC, outC, upC, loC);
  }
  // Glabella creases (AU4) between the brows.
  const glabella = clamp(1.1 * pos(a.browLower) + 0.15 * s.wrinkles, 0, 1);
  for (const side of [-1, 1]) {
    line([P(cx + side * 2.2, browY + 3.5, 16), P(cx + side * 2.6, browY - 2.5, 16)], STROKE, crease, glabella);
  }

  // Nose: its base, with wrinkles on the bridge (AU9) and wings lifted by AU9/AU10.
  const tipY = s.eyeY + s.noseLength;
  const lift = 1.5 * pos(a.upperLipRaise) + 1.5 * pos(a.noseWrinkle);
  const wingY = tipY - 1 - lift;
  line([P(cx - s.noseWidth - 0.5, wingY - 1, 19), P(cx, tipY + 2.5 - 0.5 * lift, 25), P(cx + s.noseWidth + 0.5, wingY - 1, 19)], STROKE, crease, 0.9);
  for (let k = 0; k < 2; k++) {
    const y = s.eyeY + 1.5 + 3.6 * k;
    line([P(cx - 4, y + 0.6, 18), P(cx, y - 0.6, 19), P(cx + 4, y + 0.6, 18)], STROKE, crease, clamp(1.2 * a.noseWrinkle, 0, 1));
  }

  // Mouth: corners move with AU12/AU15 (AU14 on one side only), width with AU20 and AU23,
  // opening with AU26, AU10 and a broad smile; teeth show when the lips are drawn back.
  const my = tipY + s.mouthGap;
  const mw = s.mouthWidth * clamp(1 + 0.18 * a.lipCornerPull + 0.4 * a.lipStretch - 0.3 * a.lipPress - 0.25 * pos(a.jawDrop), 0.55, 1.6);
  const cornerY = (side: number) => my - 6 * a.lipCornerPull + 5.5 * a.lipCornerDepress + 1 * pos(a.lipStretch) - (side > 0 ? 5.5 * a.dimpler : 0);
  const L = P(cx - mw, cornerY(-1), 14), R = P(cx + mw + 2.5 * a.dimpler, cornerY(1), 14);
  const opening = 13 * pos(a.jawDrop) + 3 * pos(a.upperLipRaise) + 3.5 * pos(a.lipCornerPull) + 2.5 * pos(a.lipStretch);
  const lt = s.lipThickness * clamp(1 - 0.75 * a.lipPress, 0.2, 1.3);
  const raise = 3.5 * pos(a.upperLipRaise);
  const upperIn = P(cx, my - raise - 0.5 * pos(a.lipCornerPull), 16), lowerIn = P(cx, my - raise + opening, 16);
  const upperOut = P(cx, upperIn[1] - lt * 1.1, 16), lowerOut = P(cx, lowerIn[1] + lt * 1.4, 16);
  // A lip edge from L to R through `apex`: a cubic whose control points sit at 4/3 of the apex's depth, near the corners, so
  // an open mouth rounds like a real one instead of closing to a point.
  const edge = (apex: [number, number], round = 0.12) => {
    const yc = (4 * apex[1] - (L[1] + R[1]) / 2) / 3, w = R[0] - L[0];
    return `C${pt([L[0] + round * w, yc + (L[1] - (L[1] + R[1]) / 2)])} ${pt([R[0] - round * w, yc + (R[1] - (L[1] + R[1]) / 2)])} ${pt(R)}`;
  };
  const back = (d: string) => { // the same cubic, R to L
    const m = /^C(\S+) (\S+) (\S+) (\S+) \S+ \S+$/.exec(d)!;
    return `C${m[3]} ${m[4]} ${m[1]} ${m[2]} ${pt(L)}`;
  };
  const lipColor = darkerThan(s.skin, mix(s.skin, [150, 60, 60], 0.45), 35);
  path(`M${pt(L)} ${edge(upperOut)} ${back(edge(lowerOut))} Z`, lipColor);
  if (opening > 0.8) {
    const inside = `M${pt(L)} ${edge(upperIn)} ${back(edge(lowerIn))} Z`;
    path(inside, [45, 18, 18]);
    const teeth = clamp(pos(a.lipCornerPull) + pos(a.lipStretch) + pos(a.upperLipRaise) - 0.6 * pos(a.jawDrop), 0, 1);
    const band = Math.min(3.4, opening * 0.55);
    if (teeth > 0.1 && band >= STROKE / 2) {
      // Upper teeth along the upper lip (a band clipped to the opening); a stretched mouth (AU20) bares the lower ones too.
      const along = (apex: [number, number], width: number) =>
        `<path d="M${pt(L)} ${edge(apex)}" fill="none" stroke="rgb(238,236,228)" stroke-width="${f1(2 * width)}"/>`;
      parts.push(`<clipPath id="m"><path d="${inside}"/></clipPath>`);
      parts.push(`<g clip-path="url(#m)" opacity="${f1(teeth)}">${along(upperIn, band)}${pos(a.lipStretch) > 0.2 ? along(lowerIn, 0.8 * band) : ''}</g>`);
    }
  } else {
    line([L, [cx, 2 * (my - raise + 0.3) - (L[1] + R[1]) / 2], R], STROKE * (1 + 0.3 * pos(a.lipPress)), mix(lipColor, DARK, 0.65));
  }
  // Dimple (AU14) beside the pulled corner.
  line([[R[0] + 1.5, R[1] - 2], [R[0] + 3, R[1] + 0.5], [R[0] + 2.2, R[1] + 3]], STROKE, crease, clamp(1.3 * a.dimpler, 0, 1));
  roiMouth.push(L, R, upperOut, lowerOut);

  // Nasolabial folds: resting depth, smiles (AU12), AU9/AU10; jowls with age.
  const fold = clamp(0.6 * a.nasolabial + 0.6 * pos(a.lipCornerPull) + 0.5 * pos(a.noseWrinkle) + 0.4 * pos(a.upperLipRaise) + 0.25 * s.wrinkles, 0, 1);
  for (const side of [-1, 1]) {
    const c = side > 0 ? R : L;
    line([P(cx + side * (s.noseWidth + 2), wingY, 17), P(cx + side * (s.noseWidth + 6), (wingY + my) / 2, 14), [c[0] + side * 3, c[1] + 1]], STROKE, crease, fold);
    line([[c[0] + side * 2, c[1] + 4], P(cx + side * (mw + 3), my + 11, 10)], STROKE, crease, s.wrinkles > 0.5 ? 0.7 * s.wrinkles : 0);
  }

  // Occluders that belong to the subject: a beard below the mouth, bangs over the forehead
  // and the brows' upper range, glasses over the eyes.
  if (s.beard) {
    const by = Math.max(lowerOut[1], lowerIn[1]) + 2;
    path(`M${f1(cx - W - 5)} ${f1(by - 3)} Q${f1(cx)} ${f1(by + 2)} ${f1(cx + W + 5)} ${f1(by - 3)} L${f1(cx + W + 5)} 100 L${f1(cx - W - 5)} 100 Z`, s.hair, ' fill-opacity="0.92"');
    line([P(cx - mw - 1, upperOut[1] - 1, 15), P(cx, upperOut[1] - 2.6, 17), P(cx + mw + 1, upperOut[1] - 1, 15)], 2 * STROKE, s.hair, 0.92);
  }
  if (s.bangs) {
    const edge = browY - 3;
    const b = [O(cx - W - 3, edge - 2), O(cx - W * 0.3, edge + 1), O(cx + W * 0.3, edge + 1), O(cx + W + 3, edge - 2)];
    path(`M${pt(b[0])} C${pt(b[1])} ${pt(b[2])} ${pt(b[3])} L${f1(b[3][0])} ${f1(top[1])} L${f1(b[0][0])} ${f1(top[1])} Z`, s.hair);
  }
  const clipped = parts.splice(0);
  if (s.glasses) {
    for (const side of [-1, 1]) {
      const c = P(cx + side * s.eyeSpacing, s.eyeY, 17);
      parts.push(`<ellipse cx="${f1(c[0])}" cy="${f1(c[1])}" rx="${f1((ew + 2.6) * Math.cos(yaw) ** 0.7)}" ry="${f1(ew * 0.85 + 1.6)}" fill="rgb(255,255,255)" fill-opacity="0.15" stroke="rgb(25,25,25)" stroke-width="${f1(STROKE)}"/>`);
    }
    line([P(cx - s.eyeSpacing + ew + 2.4, s.eyeY - 0.5, 18), P(cx, s.eyeY - 1.5, 19), P(cx + s.eyeSpacing - ew - 2.4, s.eyeY - 0.5, 18)], STROKE, [25, 25, 25]);
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
