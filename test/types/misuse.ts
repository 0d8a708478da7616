/**
 * Misuses of the public API, each marked `// @ts-expect-error <expected message>`, where the expected
 * message is one or more fragments (in order, separated by ` … `) of the error, its notes and the code
 * it points at: "(at `epochs`)".
 * `npm run typecheck` proves every line below a marker is a type error (an unused marker is one);
 * test/types/api.test.ts removes the markers and checks that each error says what is wrong.
 * Never run: only type-checked.
 */
import { createMLP, loadMLP } from '../../src/index.js';

export async function misuses(): Promise<void> {
  const x = new Float32Array([0, 0, 0, 1, 1, 0, 1, 1]);
  const y = new Uint32Array([0, 1, 1, 0]);

  // @ts-expect-error Type 'string' is not assignable to type 'readonly (number | HiddenLayer)[]' … property 'layers'
  await createMLP({ layers: '784' });

  // @ts-expect-error Type '"swish"' is not assignable to type 'Activation | readonly Activation[] … property 'activation'
  await createMLP({ layers: [2, 8, 2], activation: 'swish' });

  // @ts-expect-error 'optimizer' does not exist in type 'CreateMLPOptions'
  await createMLP({ layers: [2, 8, 2], optimizer: 'adam' });

  // @ts-expect-error Type 'GPU' is missing the following properties from type 'GPUDevice' … property 'device'
  await createMLP({ layers: [2, 8, 2], device: navigator.gpu });

  const mlp = await createMLP({ layers: [2, 8, 2] });

  // @ts-expect-error 'epoch' does not exist in type 'FitOptions'. Did you mean to write 'epochs'?
  await mlp.fit(x, y, { epoch: 3 });

  // @ts-expect-error Argument of type 'string' is not assignable to parameter of type 'Inputs'
  await mlp.fit('0,0 0,1 1,0 1,1', y);

  const flat = [0, 0, 0, 1, 1, 0, 1, 1];
  // @ts-expect-error Argument of type 'number[]' is not assignable to parameter of type 'Inputs'
  await mlp.fit(flat, y);

  // @ts-expect-error Argument of type 'string' is not assignable to parameter of type 'Labels'
  await mlp.fit(x, '0 1 1 0');

  // @ts-expect-error Type '"adamax"' is not assignable to type … "adamw" … Did you mean '"adam"'?
  await mlp.fit(x, y, { optimizer: 'adamax' });

  // @ts-expect-error Type 'string' is not assignable to type 'number' … (at `epochs`)
  await mlp.fit(x, y, { epochs: '3' });

  // @ts-expect-error No overload matches this call … Argument of type 'number[]' is not assignable to parameter of type 'HostInputs'
  await mlp.predict([0, 1]);

  // @ts-expect-error Argument of type 'string' is not assignable to parameter of type 'FileBytes'
  await loadMLP('model.safetensors');

  // @ts-expect-error Type 'Uint8Array<ArrayBuffer>' is missing the following properties from type 'TrainingCheckpoint<Checkpoint>': epoch, step, state … (at `resume`)
  await mlp.fit(x, y, { resume: new Uint8Array(8) });

  // @ts-expect-error Property 'accuracy' does not exist on type 'EpochResult[]'
  const { accuracy } = await mlp.fit(x, y);
  console.log(accuracy);
}
