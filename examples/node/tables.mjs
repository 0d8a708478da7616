// Your own data, with the library: a table file → a network that predicts named classes, saved with
// its preprocessing (scaling, categories, class names). Here the Palmer penguins of vega-datasets.
//   npm install webgpu-mlp webgpu vega-datasets && node tables.mjs
import { createReadStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createMLP, encodeTable, readTable, trainTestSplit } from 'webgpu-mlp';
import { loadPredictor } from 'webgpu-mlp/infer';
import { findWebGpuRuntime } from 'webgpu-mlp/node';

findWebGpuRuntime(); // Linux without a GPU: SwiftShader (apt-get install chromium, or npm install @sparticuz/chromium)

const file = join(dirname(dirname(createRequire(import.meta.url).resolve('vega-datasets'))), 'data/penguins.json');
// CSV, TSV, JSON rows or JSON lines; a stream (or text, bytes, a Blob or File in a page), read a chunk at a time.
const table = await readTable(createReadStream(file), { name: 'penguins.json' });
// The target by name; Island and Sex (text) one-hot; rows with a missing value left out, as asked.
const data = encodeTable(table, { target: 'Species', missing: 'drop' });
const { train, test } = trainTestSplit(data, { testSize: 0.2, seed: 1 }); // shuffled, stratified by species

const mlp = await createMLP({ layers: [data.features.length, 64, data.outputs.length], head: data.head, seed: 1 });
await mlp.fit(train, { epochs: 100, validation: test, earlyStopping: { patience: 10 } }); // standardised on train's rows
const { accuracy, classes, confusion } = await mlp.evaluate(test);
console.log(`test accuracy ${(100 * accuracy).toFixed(1)}% on ${test.rows} penguins`);
for (const [i, c] of classes.entries()) console.log(`  ${c.padEnd(10)} ${confusion[i].join(' ')}`);

const penguin = {
  Island: 'Dream',
  'Beak Length (mm)': 46.5,
  'Beak Depth (mm)': 17.9,
  'Flipper Length (mm)': 192,
  'Body Mass (g)': 3500,
  Sex: 'FEMALE',
};
const [guess] = await mlp.predict([penguin]);
console.log(`a penguin from Dream: ${guess.class} (${(100 * guess.probability).toFixed(1)}%)`);

await writeFile('penguins.safetensors', await mlp.save());
await mlp.destroy();

// Inference only: the file says how to read the row.
const model = await loadPredictor(await readFile('penguins.safetensors'));
const [again] = await model.predict([penguin]);
console.log(`loaded: ${again.class}, ${again.probability === guess.probability ? 'the same' : 'another'} probability`);
await model.destroy();
