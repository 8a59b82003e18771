// danfojs-node requires '@tensorflow/tfjs-node'; give it the project's tfjs (same engine)
module.exports = require('@tensorflow/tfjs');
