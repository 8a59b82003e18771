/**
 * Dataset spellings of the expression classes ("Happy", "Happiness",
 * "smile", "Angry", ...) mapped to the project's names (lib/data/classes.ts),
 * so every reader writes the same lower-case labels.
 * @see notebooks/01-data-and-preprocessing.ipynb
 */
import type { Expression } from '../classes';

const SYNONYMS: Record<string, Expression> = {
  neutral: 'neutral',
  anger: 'anger', angry: 'anger',
  contempt: 'contempt', contemptuous: 'contempt',
  disgust: 'disgust', disgusted: 'disgust',
  fear: 'fear', fearful: 'fear', afraid: 'fear',
  happy: 'happy', happiness: 'happy', smile: 'happy', joy: 'happy',
  sadness: 'sadness', sad: 'sadness',
  surprise: 'surprise', surprised: 'surprise',
};

/** The project's name for a dataset's spelling, or undefined when it is not a class we know. */
export function expressionName(raw: string): Expression | undefined {
  return SYNONYMS[raw.trim().toLowerCase()];
}
