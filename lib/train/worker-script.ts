/**
 * How to start a worker thread on one of the library's own modules, both
 * from the compiled library (dist/, a .js file) and from the TypeScript
 * sources under tsx (tests), which Node cannot load without its hook.
 */
import * as path from 'node:path';

/** The Worker constructor's arguments for `<dir>/<name>.js|.ts`, whichever this module itself was loaded as. */
export function workerScript(dir: string, name: string): { code: string; eval: boolean } {
  const file = path.join(dir, `${name}${path.extname(__filename)}`);
  if (!file.endsWith('.ts')) return { code: file, eval: false };
  return { code: `require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(file)});`, eval: true };
}
