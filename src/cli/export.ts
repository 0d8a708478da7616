/**
 * `webgpu-mlp export model.safetensors --onnx model.onnx` (src/cli/main.ts; `npm run export` in the
 * repository): a saved network (from `webgpu-mlp train`, `npm run train` or `mlp.save()`) as an ONNX
 * file (src/io/onnx_export.ts). No GPU is needed. Everything is checked —
 * the flags, the output path, the model file whole — before anything is written, and the file is
 * written atomically (src/cli/files.ts): a refused or failed export leaves whatever was there.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { encodeOnnx } from '../io/onnx.js';
import { ONNX_OPSET, onnxModel } from '../io/onnx_export.js';
import { checkOutputPaths, writeFileAtomic } from './files.js';
import { bad, forEachFlag, path } from './flags.js';

export const EXPORT_HELP = `Usage: webgpu-mlp export MODEL --onnx OUT [options]
       (in this repository also npm run export -- MODEL --onnx OUT [options])

Writes the network of MODEL (a .safetensors file from webgpu-mlp train, npm run train or
mlp.save()) as an ONNX file (opset ${ONNX_OPSET}) whose outputs are mlp.predict's: input "inputs"
[batch, D] (raw inputs, as predict takes them: the file's inputScale and a table network's scaling
are part of the graph; categories one-hot), output "probabilities" or "values" [batch, C] (a
regression's unscaled). Runs in onnxruntime (Node, web with WebGPU or wasm, Python, C++…).

  --onnx PATH              the ONNX file to write (replaced atomically)
  --feature-names A,B,…    names of the inputs, one per input (metadata_props featureNames; a table
                           network's own by default)
  --class-names A,B,…      names of the outputs: classes, labels or targets (metadata_props classNames)
  --help                   this text`;

export interface ExportArgs {
  model?: string;
  onnx?: string;
  featureNames?: string[];
  classNames?: string[];
  help: boolean;
}

export function parseExportArgs(argv: readonly string[]): ExportArgs {
  const args: ExportArgs = { help: false };
  const names = (flag: string, v: string) => {
    const list = v.split(',');
    if (list.some((n) => n.trim() === '')) bad(flag, v, 'names separated by commas, none empty');
    return list.map((n) => n.trim());
  };
  forEachFlag(argv, (flag) => {
    switch (flag.name) {
      case '--onnx':
        args.onnx = path(flag.name, flag.value());
        return;
      case '--feature-names':
        args.featureNames = names(flag.name, flag.value());
        return;
      case '--class-names':
        args.classNames = names(flag.name, flag.value());
        return;
      case '--help':
      case '-h':
        flag.none();
        args.help = true;
        return;
      default:
        if (flag.name.startsWith('-')) flag.unknown();
        if (args.model !== undefined) {
          throw new Error(`one model at a time: ${args.model} and ${flag.name} were given. See --help.`);
        }
        args.model = flag.name;
    }
  });
  if (!args.help) {
    if (args.model === undefined) throw new Error('which model? Give the .safetensors file to export. See --help.');
    if (args.onnx === undefined) throw new Error('--onnx PATH is needed: where to write the ONNX file. See --help.');
  }
  return args;
}

/** What the export did, for the summary line. */
export interface ExportReport {
  path: string;
  bytes: number;
  ms: number;
  summary: string;
}

/** Checks, exports and writes (atomically): nothing is written unless everything succeeded. */
export function exportModelFile(args: Required<Pick<ExportArgs, 'model' | 'onnx'>> & ExportArgs): ExportReport {
  const out = resolve(args.onnx);
  if (resolve(args.model) === out) {
    throw new Error(`--onnx ${args.onnx} is the model file itself: the export would replace it; give another path`);
  }
  checkOutputPaths({ '--onnx': args.onnx });
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(args.model));
  } catch (error) {
    throw new Error(`cannot read ${args.model}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const started = performance.now();
  const options = { featureNames: args.featureNames, classNames: args.classNames };
  const model = onnxModel(bytes, options, args.model);
  const onnx = encodeOnnx(model);
  const ms = performance.now() - started;
  writeFileAtomic(out, onnx);
  const [input] = model.graph.inputs;
  const [output] = model.graph.outputs;
  return {
    path: out,
    bytes: onnx.length,
    ms,
    summary: `${model.graph.doc}; ${input.name} [${input.shape.join(', ')}] → ${output.name} [${output.shape.join(', ')}]`,
  };
}

/** The command: 0 on success, 2 for bad flags, 1 when the export failed. Messages on stdout and stderr. */
export function exportCommand(argv: readonly string[]): number {
  let args: ExportArgs;
  try {
    args = parseExportArgs(argv);
  } catch (error) {
    console.error(`export: ${(error as Error).message}`);
    return 2;
  }
  if (args.help) {
    console.log(EXPORT_HELP);
    return 0;
  }
  try {
    const report = exportModelFile(args as Required<Pick<ExportArgs, 'model' | 'onnx'>> & ExportArgs);
    console.log(`wrote ${report.path}: ${report.bytes.toLocaleString('en-US')} bytes in ${report.ms.toFixed(0)} ms`);
    console.log(`  ${report.summary}`);
    return 0;
  } catch (error) {
    console.error(`export: ${(error as Error).message}`);
    return 1;
  }
}
