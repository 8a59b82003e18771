// The layers of lib/ (.dependency-cruiser.cjs): no import cycles, type-only or lazy ones included, and no
// import from a lower layer (data, models, train, results, backend, analysis, core) into the experiments or
// what drives them. Runs dependency-cruiser's command line on lib/ and tools/ and lists every violation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

interface Violation {
  from: string;
  to: string;
  rule: { name: string; severity: string };
  cycle?: { name: string }[] | string[];
}

export function cruise(args: string[] = ['lib', 'tools']): { violations: Violation[]; modules: number } {
  const r = spawnSync(process.execPath, [CLI, ...args, '--config', '.dependency-cruiser.cjs', '--output-type', 'json'], {
    cwd: ROOT, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  if (!r.stdout.trim()) throw new Error(`dependency-cruiser printed nothing (exit ${r.status}): ${r.stderr}`);
  const out = JSON.parse(r.stdout) as { summary: { violations: Violation[]; totalCruised: number } };
  return { violations: out.summary.violations, modules: out.summary.totalCruised };
}

const describe = (v: Violation) => {
  const cycle = (v.cycle ?? []).map((c) => (typeof c === 'string' ? c : c.name));
  return `${v.rule.name}: ${v.from} -> ${v.to}${cycle.length ? ` (cycle: ${[v.from, ...cycle].join(' -> ')})` : ''}`;
};

test('lib/ has no import cycles and no upward imports', () => {
  const { violations, modules } = cruise();
  assert.ok(modules > 100, `dependency-cruiser saw only ${modules} modules: is the config's path wrong?`);
  assert.deepEqual(violations.map(describe), [], `layer rules broken:\n${violations.map(describe).join('\n')}`);
});
