/**
 * The project's one expression-class order. Every dataset maps its own codes
 * to these lower-case names; class indices follow this order, restricted to
 * the classes a set contains. It is CK+'s coding order (0 neutral, 1 anger,
 * 2 contempt, 3 disgust, 4 fear, 5 happy, 6 sadness, 7 surprise).
 * @see notebooks/01-data-and-preprocessing.ipynb
 */

export const CLASS_ORDER = ['neutral', 'anger', 'contempt', 'disgust', 'fear', 'happy', 'sadness', 'surprise'] as const;
export type Expression = (typeof CLASS_ORDER)[number];

/** CK+'s seven labelled classes (no neutral). */
export const CKPLUS_CLASSES: readonly Expression[] = CLASS_ORDER.slice(1);
/** The six basic expressions (Oulu-CASIA, MMI). */
export const BASIC_SIX: readonly Expression[] = ['anger', 'disgust', 'fear', 'happy', 'sadness', 'surprise'];

/**
 * The classes present in `labels`, in CLASS_ORDER; labels outside it (a
 * generic CSV dataset) follow in alphabetical order.
 */
export function classesOf(labels: Iterable<string>): string[] {
  const present = new Set(labels);
  const known = CLASS_ORDER.filter((c) => present.has(c));
  const other = [...present].filter((c) => !(CLASS_ORDER as readonly string[]).includes(c)).sort();
  return [...known, ...other];
}
