#!/usr/bin/env node
/**
 * The `webgpu-mlp` command (the package's bin): `webgpu-mlp COMMAND [options]`. Each command is an
 * entry of COMMANDS — a line of help and a function of its arguments returning the exit code (0 done,
 * 1 failed while working, 2 refused before any work) — so a command is added by adding an entry.
 */
import { exportCommand } from './export.js';
import { evaluateCommand, predictCommand } from './table_predict.js';
import { tableTrainCommand } from './table_train.js';

export interface Command {
  /** The arguments after the command's name, e.g. `DATA --target COL`. */
  usage: string;
  /** What it does, in a line. */
  summary: string;
  run(argv: readonly string[]): number | Promise<number>;
}

export const COMMANDS: Readonly<Record<string, Command>> = {
  train: {
    usage: 'DATA --target COL',
    summary: 'train a network on a table (CSV, TSV, JSON rows) and save it with its preprocessing',
    run: tableTrainCommand,
  },
  predict: {
    usage: 'MODEL ROWS',
    summary: "a table's predictions by class or target name, as CSV",
    run: predictCommand,
  },
  evaluate: {
    usage: 'MODEL DATA',
    summary: 'accuracy and confusion matrix with class names (or MAE, RMSE, R²) on a labelled table',
    run: evaluateCommand,
  },
  export: { usage: 'MODEL --onnx OUT', summary: 'a model file as an ONNX graph', run: exportCommand },
};

export const MAIN_HELP = `Usage: webgpu-mlp COMMAND [options]

Multi-layer perceptrons on the GPU with WebGPU (Dawn in Node: on a GPU, else on SwiftShader).

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${`${name} ${c.usage}`.padEnd(28)}${c.summary}`)
  .join('\n')}

Run webgpu-mlp COMMAND --help for a command's options.`;

/** Runs the command argv names; returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(MAIN_HELP);
    return name === undefined ? 2 : 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    console.error(
      `webgpu-mlp: unknown command ${JSON.stringify(name)}: expected one of ${Object.keys(COMMANDS).join(', ')}. See webgpu-mlp --help.`,
    );
    return 2;
  }
  return command.run(rest);
}

/** Exits once stdout has taken everything written (a pipe is written asynchronously); Dawn would keep the process alive. */
function exit(code: number): void {
  process.stdout.write('', () => process.exit(code));
}

main(process.argv.slice(2)).then(exit, (error: Error) => {
  console.error(`webgpu-mlp: ${error.message || String(error)}`);
  exit(1);
});
