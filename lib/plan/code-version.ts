/**
 * A fingerprint of the code a plan was made with: the library's and the
 * tools' sources and the locked dependencies. A task refuses a plan made by
 * other code, which could compute other numbers under the same run ids.
 * The sources, not dist/, are hashed, so a plan made under tsx (tests) and
 * its tasks in the compiled library agree; `npm run experiment` and the
 * submit script build dist/ from them first.
 * @see notebooks/02-spndl.ipynb
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { PROJECT_ROOT } from '../paths';

const SOURCES = ['lib', 'tools'];

function sourceFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

let memo: string | null = null;

/** 16 hex digits over every lib/ and tools/ source file (path and content) and package-lock.json. */
export function codeVersion(): string {
  if (memo) return memo;
  const h = createHash('sha256');
  const sources = SOURCES.flatMap((d) => sourceFiles(path.join(PROJECT_ROOT, d)));
  const files = [...sources, path.join(PROJECT_ROOT, 'package-lock.json')].filter((f) => fs.existsSync(f)).sort();
  for (const f of files) h.update(path.relative(PROJECT_ROOT, f)).update('\0').update(fs.readFileSync(f)).update('\0');
  return (memo = h.digest('hex').slice(0, 16));
}

/**
 * Tasks run the compiled library: every source must have its dist/ twin, built no earlier than the source,
 * else a task would train with older code than the plan's fingerprint says.
 */
export function checkCompiled(): void {
  for (const src of SOURCES.flatMap((d) => sourceFiles(path.join(PROJECT_ROOT, d)))) {
    const rel = path.relative(PROJECT_ROOT, src);
    const js = path.join(PROJECT_ROOT, 'dist', rel.replace(/\.ts$/, '.js'));
    if (!fs.existsSync(js) || fs.statSync(js).mtimeMs < fs.statSync(src).mtimeMs) {
      throw new Error(`${path.relative(PROJECT_ROOT, js)} is missing or older than ${rel}: run 'npm run build' ` +
        '(a plan\'s tasks run the compiled library)');
    }
  }
}
