/**
 * How to start a worker thread on one of the library's own modules. From the
 * compiled library (dist/) that is the module's .js file. From the
 * TypeScript sources (tests under tsx) a worker cannot load .ts files itself
 * (tsx's hooks do not reach worker threads, and the sources load some
 * modules lazily with import()), so it runs the compiled twin in dist/,
 * which `npm test` builds first; a missing or older twin is an error that
 * says so.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The Worker constructor's arguments for `<dir>/<name>`, the .js file beside this module or its compiled twin. */
export function workerScript(dir: string, name: string): { code: string; eval: boolean } {
  const file = path.join(dir, `${name}${path.extname(__filename)}`);
  if (!file.endsWith('.ts')) return { code: file, eval: false };
  const root = path.resolve(__dirname, '..', '..');
  const compiled = path.join(root, 'dist', path.relative(root, dir), `${name}.js`);
  if (!fs.existsSync(compiled) || fs.statSync(compiled).mtimeMs < fs.statSync(file).mtimeMs) {
    throw new Error(`${path.relative(root, compiled)} is missing or older than ${path.relative(root, file)}: run 'npm run build' (workers run the compiled library)`);
  }
  return { code: compiled, eval: false };
}
