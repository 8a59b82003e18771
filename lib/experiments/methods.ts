/**
 * The method registry: every paper registers its method (with its variants)
 * here, and the runner and command line find methods by name.
 * To add a paper: `import { spndlMethod } from './spndl'` and add it to
 * BUILT_IN below.
 * @see notebooks/02-spndl.ipynb
 */
import { baselineMethod, idPretrainMethod } from './baseline';
import { ddlDfemMethod, ddlMethod, ddlPretrainMethod } from './ddl';
import { gndlMethod } from './gndl';
import { idfermMethod, idfermPretrainMethod } from './idferm';
import type { Method } from '../train/run-types';
import { spndlMethod } from './spndl';

const registry = new Map<string, Method>();

/** Registers a method; a second method with the same name is an error. */
export function registerMethod(method: Method): void {
  if (registry.has(method.name)) throw new Error(`method '${method.name}' is already registered`);
  if (!method.variants[method.defaultVariant]) throw new Error(`method '${method.name}': default variant '${method.defaultVariant}' is not one of its variants`);
  registry.set(method.name, method);
}

const BUILT_IN: Method[] = [baselineMethod, ddlMethod, ddlDfemMethod, ddlPretrainMethod, gndlMethod, idfermMethod, idfermPretrainMethod, idPretrainMethod, spndlMethod];
for (const m of BUILT_IN) registerMethod(m);

export function getMethod(name: string): Method {
  const m = registry.get(name);
  if (!m) throw new Error(`unknown method '${name}'; methods: ${listMethods().join(', ')}`);
  return m;
}

export const listMethods = (): string[] => [...registry.keys()].sort();

/** Rows for a table of every method and variant. */
export const describeMethods = () => [...registry.values()].flatMap((m) =>
  Object.entries(m.variants).map(([variant, v]) => ({ method: m.name, paper: m.paper, variant, spl: !!v.spl, description: v.description })));
