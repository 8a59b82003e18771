/**
 * Image grids for notebooks and figures: cells (files, PNG bytes or [0,1]
 * pixel arrays) composed with sharp into one PNG, with optional row and
 * column labels.
 * @see notebooks/01-data-and-preprocessing.ipynb
 */
import sharp from 'sharp';

/** Pixels as a FerSet stores them: [size, size, channels] in [0, 1]. */
export interface Pixels {
  pixels: Float32Array;
  size: number;
  channels: 1 | 3;
}
export type GridCell = string | Buffer | Pixels | null;

export interface GridOptions {
  /** side of each cell in the grid, in pixels (cells are scaled to it) */
  cell?: number;
  gap?: number;
  rowLabels?: string[];
  colLabels?: string[];
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function toSharp(c: Exclude<GridCell, null>): sharp.Sharp {
  if (typeof c === 'string' || Buffer.isBuffer(c)) return sharp(c);
  const bytes = Buffer.alloc(c.pixels.length);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.round(Math.max(0, Math.min(1, c.pixels[i])) * 255);
  return sharp(bytes, { raw: { width: c.size, height: c.size, channels: c.channels } });
}

/** One PNG: `rows[r][c]` at row r, column c; null leaves a blank cell. */
export async function imageGrid(rows: GridCell[][], opts: GridOptions = {}): Promise<Buffer> {
  const cell = opts.cell ?? 96, gap = opts.gap ?? 4;
  const cols = Math.max(...rows.map((r) => r.length));
  const font = Math.max(10, Math.round(cell / 7));
  const left = opts.rowLabels ? Math.round(font * 0.62 * Math.max(...opts.rowLabels.map((l) => l.length)) + gap * 2) : 0;
  const top = opts.colLabels ? font + gap * 2 : 0;
  const width = left + cols * (cell + gap) + gap, height = top + rows.length * (cell + gap) + gap;
  const layers: sharp.OverlayOptions[] = [];
  for (let r = 0; r < rows.length; r++) {
    for (let c = 0; c < rows[r].length; c++) {
      const item = rows[r][c];
      if (!item) continue;
      const input = await toSharp(item).resize(cell, cell, { kernel: 'nearest', fit: 'fill' }).toColourspace('srgb').png().toBuffer();
      layers.push({ input, left: left + gap + c * (cell + gap), top: top + gap + r * (cell + gap) });
    }
  }
  const text: string[] = [];
  opts.rowLabels?.forEach((l, r) => text.push(`<text x="${gap}" y="${top + gap + r * (cell + gap) + cell / 2 + font / 3}">${escapeXml(l)}</text>`));
  opts.colLabels?.forEach((l, c) => text.push(`<text x="${left + gap + c * (cell + gap) + cell / 2}" y="${font + gap / 2}" text-anchor="middle">${escapeXml(l)}</text>`));
  if (text.length) {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><g font-family="sans-serif" font-size="${font}" fill="#222">${text.join('')}</g></svg>`;
    layers.push({ input: Buffer.from(svg), left: 0, top: 0 });
  }
  return sharp({ create: { width, height, channels: 3, background: '#ffffff' } }).composite(layers).png().toBuffer();
}
