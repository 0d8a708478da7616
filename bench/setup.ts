/**
 * Setup in a new process (Node only): spawns bench/setup_probe.ts (built beside the bench as
 * dist/node/setup_probe.js) once per network and gathers what it measured, with a table by
 * pipeline kind. A new process each time: nothing compiled before is cached.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SetupProbe } from './setup_probe.js';

/** The networks whose setup is measured: the table shape, a one-step-per-epoch table, MNIST. */
export const SETUP_NETWORKS = [
  { layers: [64, 100, 10], rows: 1347 },
  { layers: [13, 100, 3], rows: 133 },
  { layers: [784, 256, 10], rows: 1280 },
] as const;

export interface SetupReport {
  probes: SetupProbe[];
  /** Probes that failed, with their error output. */
  failures: string[];
}

/** Runs the probes, one new process each, one after the other. */
export function runSetupProbes(log: (line: string) => void = () => {}): SetupReport {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'setup_probe.js');
  const probes: SetupProbe[] = [];
  const failures: string[] = [];
  if (!existsSync(script)) {
    return {
      probes,
      failures: [`${script} is not built: the probes run from \`npm run bench\` (vite.node.config.ts)`],
    };
  }
  for (const n of SETUP_NETWORKS) {
    log(`setup [${n.layers.join(',')}] in a new process …`);
    const run = spawnSync(process.execPath, [script, n.layers.join(','), String(n.rows)], {
      encoding: 'utf8',
      timeout: 300_000,
    });
    const line = run.stdout.trim().split('\n').at(-1) ?? '';
    try {
      const probe = JSON.parse(line) as SetupProbe;
      probes.push(probe);
      log(`  ${describeProbe(probe)}`);
    } catch {
      failures.push(
        `[${n.layers.join(',')}]: ${(run.stderr || run.error?.message || 'no output').trim().slice(0, 500)}`,
      );
    }
  }
  return { probes, failures };
}

const ms = (v: number) => `${v.toFixed(0)} ms`;

export function describeProbe(p: SetupProbe): string {
  return `[${p.layers.join(',')}]: create ${ms(p.createMs)} + fit setup ${ms(p.fitSetupMs)} = ${ms(p.createMs + p.fitSetupMs)} (process start ${ms(p.startMs)}, runtime ${ms(p.runtimeMs)}, import ${ms(p.importMs)}; total ${ms(p.totalMs)}), ${p.pipelines.length} pipelines`;
}

/** The probes as Markdown tables: the phases, then the pipelines by kind (count, sum and longest). */
export function formatSetup(report: SetupReport): string {
  const lines = [
    'setup in a new process (ms): node start, runtime finder, import, device + createMLP, fit setup; library setup = the last two; CPU: every thread, from the start',
    '| network | node start | runtime | import | create | fit setup | library setup | CPU to first step | pipelines |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const p of report.probes) {
    lines.push(
      `| [${p.layers.join(',')}] | ${p.startMs.toFixed(0)} | ${p.runtimeMs.toFixed(0)} | ${p.importMs.toFixed(0)} | ${p.createMs.toFixed(0)} | ${p.fitSetupMs.toFixed(0)} | **${(p.createMs + p.fitSetupMs).toFixed(0)}** | ${p.cpuMs.toFixed(0)} | ${p.pipelines.length} |`,
    );
  }
  lines.push('', 'pipelines compiled before the first step, by kind (wall-clock ms, compiled side by side)');
  lines.push('| network | kind | count | longest |', '|---|---|---|---|');
  for (const p of report.probes) {
    const kinds = new Map<string, number[]>();
    for (const { kind, ms: t } of p.pipelines) kinds.set(kind, [...(kinds.get(kind) ?? []), t]);
    for (const [kind, times] of kinds) {
      lines.push(`| [${p.layers.join(',')}] | ${kind} | ${times.length} | ${Math.max(...times).toFixed(0)} |`);
    }
  }
  for (const f of report.failures) lines.push(`failed: ${f}`);
  return lines.join('\n');
}
