/**
 * Vega-lite specs -> SVG (vega 5, headless) -> PNG (sharp), written under
 * figures/. Figures are drawn from stored results only, so regenerating one
 * never needs training.
 * @see notebooks/07-figures.ipynb
 */
import * as path from 'path';
import sharp from 'sharp';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import { writeFileAtomic } from '../core/atomic-write';
import { figuresDir, PROJECT_ROOT } from '../paths';

export type FigureSpec = vl.TopLevelSpec;

export interface Figure {
  name: string;
  svg: string;
  png: Buffer;
  /** files written, relative to the project root */
  files: string[];
}


/** Renders a vega-lite spec to SVG only (no files), e.g. for inline display. */
export async function specToSvg(spec: FigureSpec): Promise<string> {
  const compiled = vl.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * Renders a figure and writes `<dir>/<name>.svg` and `.png`.
 * @param name file stem, e.g. 'spndl/fig4-accuracy-per-pace'
 * @param dir output folder, by default figures/ at the project root
 */
export async function renderFigure(spec: FigureSpec, name: string, dir = figuresDir()): Promise<Figure> {
  if (!/^[\w./-]+$/.test(name) || name.includes('..')) throw new Error(`figure name '${name}' must be a plain relative path`);
  const svg = await specToSvg(spec);
  const png = await sharp(Buffer.from(svg), { density: 144 }).png().toBuffer();
  const files = ['svg', 'png'].map((ext) => path.join(dir, `${name}.${ext}`));
  writeFileAtomic(files[0], svg);
  writeFileAtomic(files[1], png);
  return { name, svg, png, files: files.map((f) => path.relative(PROJECT_ROOT, f)) };
}
