/**
 * Preprocessing for raw images: crop boxes from landmarks, and face
 * detection + eye alignment (face-api loads lazily, on the first alignment).
 * @see notebooks/01-data-and-preprocessing.ipynb
 */
export * from './landmark-crop';
export * from './face-align';
