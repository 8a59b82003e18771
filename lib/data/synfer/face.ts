/**
 * SynFER's face model: identities (traits drawn per subject) and expressions
 * as action-unit-like activations (FACS prototypes, e.g. happy = AU6 + AU12).
 *
 * An image is drawn from `rest + intensity * prototype`: `rest` holds the
 * subject's resting face in the same action-unit units (narrow eyes, low or
 * slanted brows, turned-down mouth corners, deep nasolabial lines), so an
 * identity can mimic an expression cue. Its spread is set by the `confound`
 * knob; the subject's `confound` score is the norm of `rest`.
 * @see notebooks/01-data-and-preprocessing.ipynb
 */
import type { Expression } from '../classes';
import { gaussian, pick, rng, uniform } from '../random';

/** Action-unit-like controls, each about 0..1 at full expression; rest offsets may be negative. */
export const ACTION_UNITS = [
  'browRaiseInner', // AU1
  'browRaiseOuter', // AU2
  'browLower', // AU4: down and together
  'lidRaise', // AU5: eyes wider
  'lidTighten', // AU7: eyes narrower
  'cheekRaise', // AU6
  'noseWrinkle', // AU9
  'upperLipRaise', // AU10
  'lipCornerPull', // AU12
  'dimpler', // AU14, one-sided (contempt)
  'lipCornerDepress', // AU15
  'lipStretch', // AU20
  'lipPress', // AU23/24
  'jawDrop', // AU26/27
  'nasolabial', // depth of the nasolabial folds
] as const;
export type ActionUnit = (typeof ACTION_UNITS)[number];
export type Activation = Partial<Record<ActionUnit, number>>;

/**
 * Peak activations per class (EMFACS-style prototypes at CK+ peak intensity).
 * Each class has its own unmistakable configuration: no two share both
 * their brow movement and their mouth shape.
 */
export const PROTOTYPES: Record<Expression, Activation> = {
  neutral: {},
  // brows down and together (V), narrowed eyes, lips pressed thin
  anger: { browLower: 1, lidTighten: 0.7, lipPress: 1 },
  // one lip corner pulled up and back, dimple on that side only
  contempt: { dimpler: 1, lidTighten: 0.15 },
  // wrinkled nose, raised upper lip baring the upper teeth, lowered brows
  disgust: { noseWrinkle: 1, upperLipRaise: 1, browLower: 0.5, lidTighten: 0.5, lipCornerDepress: 0.3 },
  // raised and drawn-together brows, wide eyes, stretched open mouth
  fear: { browRaiseInner: 1, browRaiseOuter: 0.4, browLower: 0.5, lidRaise: 1, lipStretch: 1, jawDrop: 0.35 },
  // raised cheeks, narrowed eyes, lip corners pulled up into an open smile
  happy: { cheekRaise: 1, lipCornerPull: 1, nasolabial: 0.6, lidTighten: 0.2 },
  // oblique brows (inner ends up), drooping lids, lip corners down
  sadness: { browRaiseInner: 1, browLower: 0.3, lipCornerDepress: 1, lidRaise: -0.3 },
  // high arched brows, wide eyes, dropped jaw
  surprise: { browRaiseInner: 1, browRaiseOuter: 1, lidRaise: 1, jawDrop: 1 },
};

/** Look-alike class a flipped label goes to (the usual confusions on CK+ / Oulu-CASIA). */
export const LOOK_ALIKE: Record<Expression, Expression> = {
  neutral: 'sadness', anger: 'disgust', contempt: 'happy', disgust: 'anger',
  fear: 'surprise', happy: 'contempt', sadness: 'anger', surprise: 'fear',
};

/**
 * Spread (per unit of the confound knob) of the resting offsets that mimic expressions: at 1, the calibrated
 * default, a resting face costs the plain lite baseline about 6 points against confound 0 (notebook 01).
 */
const REST_SPREAD: Activation = {
  lidTighten: 0.22, browLower: 0.22, browRaiseInner: 0.2, lipCornerPull: 0.22, lipStretch: 0.18, nasolabial: 0.25,
};

export type Rgb = [number, number, number];

export interface Subject {
  id: string;
  gender: 'female' | 'male';
  /** 0 young, 1 middle, 2 old: wrinkle lines, sagging, grey hair */
  ageGroup: 0 | 1 | 2;
  /** 0 light, 1 medium, 2 dark */
  skinTone: 0 | 1 | 2;
  // geometry, in a 100 x 100 canvas centred on (50, 50)
  faceWidth: number; // half width
  faceHeight: number; // half height
  jaw: number; // chin half-width / face half-width
  eyeY: number;
  eyeSpacing: number; // half distance between the eye centres
  eyeSize: number; // eye half width
  eyeAperture: number; // resting half height / half width
  browGap: number; // brow height above the eye centre
  browThickness: number;
  noseLength: number;
  noseWidth: number;
  mouthWidth: number; // half width
  mouthGap: number; // nose tip to mouth
  lipThickness: number;
  wrinkles: number; // 0..1
  // appearance
  skin: Rgb;
  hair: Rgb;
  iris: Rgb;
  longHair: boolean;
  glasses: boolean;
  bangs: boolean;
  beard: boolean;
  /** resting face in action-unit units (the identity confound) */
  rest: Activation;
  /** norm of `rest` */
  confound: number;
}

const SKIN: Rgb[] = [[236, 200, 170], [196, 146, 108], [120, 82, 58]];
const HAIR: Rgb[] = [[30, 25, 22], [90, 60, 40], [200, 170, 110], [130, 60, 35]];
const IRIS: Rgb[] = [[80, 50, 30], [60, 100, 150], [70, 110, 70]];

const jitter = (r: () => number, c: Rgb, amount: number): Rgb =>
  c.map((v) => Math.max(0, Math.min(255, Math.round(v + uniform(r, -amount, amount))))) as Rgb;
const clamp = (v: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, v));

/**
 * One subject's traits, from its own random stream: subject `s007` is the same
 * face whatever the number of subjects generated.
 * @param confound spread of the resting offsets (0 = none)
 * @param occlusion chance scale for glasses, bangs and beard
 */
export function drawSubject(seed: number, id: string, confound: number, occlusion: number): Subject {
  const r = rng(seed, 'subject', id);
  const gender = r() < 0.5 ? 'female' : 'male';
  const male = gender === 'male';
  const ageGroup = pick(r, [0, 1, 2] as const);
  const skinTone = pick(r, [0, 1, 2] as const);
  const n = (mean: number, sd: number, lo: number, hi: number) => clamp(mean + sd * gaussian(r), lo, hi);
  const rest: Activation = {};
  let norm = 0;
  for (const [au, spread] of Object.entries(REST_SPREAD) as [ActionUnit, number][]) {
    let v = confound * spread * gaussian(r);
    if (au === 'nasolabial') v = Math.abs(v); // folds only deepen
    rest[au] = v;
    norm += v * v;
  }
  const hairBase = ageGroup === 2 && r() < 0.7 ? [165, 165, 160] as Rgb : pick(r, HAIR);
  return {
    id, gender, ageGroup, skinTone,
    faceWidth: n(male ? 29 : 27.5, 1.5, 24, 33),
    faceHeight: n(36, 1.5, 32, 40),
    jaw: n(male ? 0.66 : 0.54, 0.06, 0.4, 0.8),
    eyeY: n(45, 1, 42.5, 47.5),
    eyeSpacing: n(12.5, 0.8, 10.5, 14.5),
    eyeSize: n(6, 0.4, 5, 7),
    eyeAperture: n(0.45, 0.05, 0.34, 0.56),
    browGap: n(8, 0.7, 6.5, 9.5),
    browThickness: n(male ? 4.4 : 3.6, 0.4, 3, 5.5),
    noseLength: n(12.5, 1, 10, 15),
    noseWidth: n(4.5, 0.5, 3.5, 5.5),
    mouthWidth: n(10, 0.8, 8, 12),
    mouthGap: n(9, 0.7, 7.5, 10.5),
    lipThickness: n(male ? 2.2 : 2.8, 0.3, 1.6, 3.6),
    wrinkles: clamp([0.05, 0.4, 0.8][ageGroup] + uniform(r, -0.1, 0.1), 0, 1),
    skin: jitter(r, SKIN[skinTone], 10),
    hair: jitter(r, hairBase, 12),
    iris: pick(r, IRIS),
    longHair: male ? r() < 0.1 : r() < 0.85,
    glasses: r() < occlusion * 0.5,
    bangs: r() < occlusion * (male ? 0.25 : 0.6),
    beard: male && r() < occlusion * 0.6,
    rest,
    confound: Math.sqrt(norm),
  };
}

/** Activations of `expression` at `intensity` on top of the subject's resting face. */
export function activation(subject: Subject, expression: Expression, intensity: number): Required<Activation> {
  const out = {} as Required<Activation>;
  for (const au of ACTION_UNITS) out[au] = (subject.rest[au] ?? 0) + intensity * (PROTOTYPES[expression][au] ?? 0);
  return out;
}

/** Traits written as manifest columns (numbers rounded for a readable CSV). */
export function subjectColumns(s: Subject): Record<string, string | number> {
  const r3 = (v: number) => Math.round(v * 1000) / 1000;
  return {
    gender: s.gender, age_group: s.ageGroup, skin_tone: s.skinTone,
    face_width: r3(s.faceWidth), face_height: r3(s.faceHeight), jaw: r3(s.jaw),
    eye_size: r3(s.eyeSize), eye_spacing: r3(s.eyeSpacing), brow_height: r3(s.browGap), brow_thickness: r3(s.browThickness),
    nose_length: r3(s.noseLength), nose_width: r3(s.noseWidth), mouth_width: r3(s.mouthWidth), wrinkles: r3(s.wrinkles),
    glasses: +s.glasses, bangs: +s.bangs, beard: +s.beard,
    rest_eyes_narrow: r3(s.rest.lidTighten ?? 0), rest_brow_low: r3(s.rest.browLower ?? 0),
    rest_brow_slant: r3(s.rest.browRaiseInner ?? 0), rest_mouth_corner: r3(s.rest.lipCornerPull ?? 0),
    rest_mouth_stretch: r3(s.rest.lipStretch ?? 0), rest_nasolabial: r3(s.rest.nasolabial ?? 0),
    confound: r3(s.confound),
  };
}
