/**
 * Where the project lives on disk, whether code runs from lib/ (tests, tsx)
 * or from the compiled dist/lib (notebooks, command line).
 */
import * as path from 'path';
import { profileFrom } from './config';

/** The project root: the folder holding package.json. */
export const PROJECT_ROOT = path.resolve(__dirname, __dirname.split(path.sep).includes('dist') ? '../..' : '..');

/**
 * Where figures are written: figures/ (committed) for the lite and paper
 * profiles; smoke runs (npm test, CI) draw into data/figures-smoke/ so they
 * never overwrite the committed figures with tiny-run versions.
 */
export function figuresDir(env: NodeJS.ProcessEnv = process.env): string {
  return profileFrom(env) === 'smoke' ? path.join(PROJECT_ROOT, 'data', 'figures-smoke') : path.join(PROJECT_ROOT, 'figures');
}
