/**
 * An outside reference for notebook 06: face-api's bundled expression model
 * scored on the comparison's data.
 * @see notebooks/06-comparison.ipynb
 */
import { loadFaceApiExpression, scoreFaceApi, type FaceApiScore } from '../../models/face-api-expression';
import type { ComparisonPlan } from './plan';

/** face-api's bundled expression model on every sample of the comparison's data (each sample is unseen by it). */
export async function faceApiReference(cmp: ComparisonPlan): Promise<FaceApiScore> {
  const model = await loadFaceApiExpression();
  try {
    const all = Int32Array.from(cmp.set.labels.keys());
    return scoreFaceApi(model, cmp.set.images, cmp.set.size, cmp.set.channels, cmp.set.labels, cmp.set.classes, all);
  } finally {
    model.dispose();
  }
}
