/**
 * What the MLP loads when it meets a table (src/mlp.ts: fit on TableData, named rows, a file with
 * preprocessing), in one module so that one dynamic import brings it: an application that trains on
 * typed arrays only never downloads it (src/table/kind.ts recognises table values without it).
 */
export {
  checkSameColumns,
  decodePreprocessing,
  fitPreprocessing,
  imputeInputs,
  inputAffine,
  inputColumns,
  namePredictions,
  outputAffine,
  SCALINGS,
  scaleTargets,
} from './preprocessing.js';
export { namedInputs, namedTargets } from './rows.js';
export { featureNames } from './schema.js';
