/**
 * Figures of the data: neutral/peak pairs of a loaded set, a subject's
 * sequences, and one row per SynFER disturbance factor. Each returns PNG
 * bytes; `savePng` writes them under figures/.
 * @see notebooks/01-data-and-preprocessing.ipynb
 */
import * as path from 'path';
import { figuresDir, PROJECT_ROOT } from '../../paths';
import type { Expression } from '../classes';
import type { FerSet } from '../dataset';
import { type GridCell, imageGrid } from '../grid';
import { writeFileAtomic } from '../../core/atomic-write';
import { renderSample } from './generate';

/** Writes PNG bytes to figures/<name>.png; returns the path relative to the project. */
export function savePng(png: Buffer, name: string): string {
  const file = path.join(figuresDir(), `${name}.png`);
  writeFileAtomic(file, png);
  return path.relative(PROJECT_ROOT, file);
}

const cell = (set: FerSet, data: Float32Array, i: number): GridCell => {
  const per = set.size * set.size * set.channels;
  return { pixels: data.subarray(i * per, (i + 1) * per), size: set.size, channels: set.channels };
};

/** One row per class: (neutral, peak) of the first `pairs` subjects that have the class. */
export async function pairGrid(set: FerSet, pairs = 3): Promise<Buffer> {
  const rows: GridCell[][] = [];
  for (let c = 0; c < set.classes.length; c++) {
    const row: GridCell[] = [];
    const seen = new Set<string>();
    set.labels.forEach((l, i) => {
      if (l !== c || seen.has(set.subjects[i]) || seen.size >= pairs) return;
      seen.add(set.subjects[i]);
      row.push(set.neutral ? cell(set, set.neutral, i) : null, cell(set, set.images, i));
    });
    rows.push(row);
  }
  const colLabels = Array.from({ length: pairs }, () => ['neutral', 'peak']).flat();
  return imageGrid(rows, { cell: 80, rowLabels: set.classes, colLabels });
}

/** All frames of each of a subject's sequences, read from a SynFER folder (onset left, peak right). */
export async function sequenceGrid(setDir: string, subject: string, expressions: readonly string[], frames: number): Promise<Buffer> {
  const rows = expressions.map((e) => Array.from({ length: frames }, (_, f) => path.join(setDir, 'frames', subject, e, `f${String(f).padStart(2, '0')}.png`)));
  return imageGrid(rows, { cell: 80, rowLabels: [...expressions], colLabels: Array.from({ length: frames }, (_, f) => `frame ${f}`) });
}

/** Each disturbance factor swept on one face (rows), other factors held at their neutral value. */
export async function disturbanceGrid(seed: number, size: number, subject = 's002', expression: Expression = 'happy'): Promise<Buffer> {
  const base = { seed, subject, expression, intensity: 0.8, size, confound: 0 };
  const sweeps: [string, Parameters<typeof renderSample>[0][]][] = [
    ['yaw', [-30, -15, 0, 15, 30].map((yaw) => ({ ...base, view: { yaw } }))],
    ['pitch', [-10, -5, 0, 5, 10].map((pitch) => ({ ...base, view: { pitch } }))],
    ['roll', [-10, -5, 0, 5, 10].map((roll) => ({ ...base, view: { roll } }))],
    ['light dir', (['frontal', 'left', 'right', 'top', 'bottom'] as const).map((light) => ({ ...base, view: { light, lightStrength: 0.8 } }))],
    ['light strength', [0, 0.25, 0.5, 0.75, 1].map((lightStrength) => ({ ...base, view: { light: 'left' as const, lightStrength } }))],
    ['occluders', [{}, { glasses: true }, { bangs: true }, { beard: true, gender: 'male' as const }, { glasses: true, bangs: true }].map((traits) => ({ ...base, traits }))],
    ['blur', [0, 0.5, 1, 1.5, 2].map((blur) => ({ ...base, finish: { blur } }))],
    ['noise', [0, 0.02, 0.04, 0.08, 0.15].map((noise) => ({ ...base, finish: { noise } }))],
    ['corruption', (['none', 'patch', 'blur', 'noise', 'none'] as const).map((corruption) => ({ ...base, finish: { corruption } }))],
    ['intensity', [0, 0.25, 0.5, 0.75, 1].map((intensity) => ({ ...base, intensity }))],
    // Identity confounds: the same neutral face with a resting squint and low brows, or turned-up/down mouth corners.
    ['rest: eyes, brows', [-0.8, -0.4, 0, 0.4, 0.8].map((v) => ({ ...base, expression: 'neutral' as const, intensity: 0, traits: { rest: { lidTighten: v, browLower: v } } }))],
    ['rest: mouth', [-0.8, -0.4, 0, 0.4, 0.8].map((v) => ({ ...base, expression: 'neutral' as const, intensity: 0, traits: { rest: { lipCornerPull: v } } }))],
  ];
  const rows: GridCell[][] = [];
  for (const [, cells] of sweeps) rows.push(await Promise.all(cells.map((c) => renderSample(c))));
  return imageGrid(rows, { cell: 80, rowLabels: sweeps.map(([name]) => name) });
}
