/**
 * Where the project lives on disk, whether code runs from lib/ (tests, tsx)
 * or from the compiled dist/lib (notebooks, command line).
 */
import * as path from 'path';

/** The project root: the folder holding package.json. */
export const PROJECT_ROOT = path.resolve(__dirname, __dirname.split(path.sep).includes('dist') ? '../..' : '..');
