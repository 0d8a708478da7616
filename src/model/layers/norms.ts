/**
 * The parameters of the layers a hidden layer can add after its linear map — a normalisation
 * (`'layer'`: LayerNorm, `'batch'`: BatchNorm1d) and dropout — checked here for options, specs and
 * files. The layer kinds themselves (layer_norm.ts, batch_norm.ts, dropout.ts) read these specs.
 */
import { checkParam, fail, type ParamSpec, type ParamSpecs, type ParamValues, resolveParams } from '../../params.js';

/** ε added to the variance before its square root (PyTorch's default, 1e-5). */
const EPS: ParamSpec = { default: 1e-5, min: 0, max: 1, minExclusive: true, doc: 'ε added to the variance' };

/** The normalisations by name, with their parameters. */
export const NORM_PARAMS = {
  layer: { eps: EPS },
  batch: {
    eps: EPS,
    momentum: {
      default: 0.1,
      min: 0,
      max: 1,
      doc: 'running statistics: (1 − m)·running + m·batch',
    },
  },
} as const satisfies Record<string, ParamSpecs>;

/** `'layer'` (LayerNorm) or `'batch'` (BatchNorm1d). */
export type NormName = keyof typeof NORM_PARAMS;

export const NORMS = Object.keys(NORM_PARAMS) as readonly NormName[];

/** A normalisation as options and files give it: its name, or `{ name, ...params }` (`{ name: 'batch', momentum: 0.01 }`). */
export type Norm = NormName | { readonly name: NormName; readonly [param: string]: number | string };

/** A normalisation with its parameters resolved. */
export interface ResolvedNorm {
  readonly name: NormName;
  readonly params: ParamValues;
}

/** Whether a value can be a norm or an array's entry of one (null: none); the rest is checked by resolveNorm. */
export function isNormLike(v: unknown): boolean {
  return v === null || typeof v === 'string' || (typeof v === 'object' && !Array.isArray(v));
}

function normName(name: unknown, arg: string): NormName {
  if (typeof name !== 'string' || !Object.hasOwn(NORM_PARAMS, name)) {
    fail(arg, name, `one of ${NORMS.map((n) => `'${n}'`).join(', ')} (LayerNorm, BatchNorm1d), or null for none`);
  }
  return name as NormName;
}

/** Checks a norm as given (name or `{ name, ...params }`) and resolves its parameters. */
export function resolveNorm(given: unknown, arg = 'norm'): ResolvedNorm {
  if (typeof given === 'object' && given !== null && !Array.isArray(given)) {
    const { name, ...params } = given as { name?: unknown };
    const n = normName(name, `${arg}.name`);
    return { name: n, params: resolveParams(arg, NORM_PARAMS[n], params) };
  }
  const n = normName(given, arg);
  return { name: n, params: resolveParams(arg, NORM_PARAMS[n]) };
}

/** The canonical form: the name when every parameter has its default, else `{ name, ...params }`. */
export function canonicalNorm(r: ResolvedNorm): Norm {
  const specs: ParamSpecs = NORM_PARAMS[r.name];
  const changed = Object.keys(specs).filter((k) => r.params[k] !== specs[k]?.default);
  return changed.length === 0 ? r.name : { name: r.name, ...r.params };
}

/** The probability a unit is dropped in training: [0, 1), 0 for no dropout. */
export const DROPOUT: ParamSpec = {
  default: 0,
  min: 0,
  max: 1,
  maxExclusive: true,
  doc: 'probability of zeroing a unit in training',
};

/** Checks a dropout probability. */
export function resolveDropout(p: unknown, arg = 'dropout'): number {
  return checkParam(arg, DROPOUT, p);
}
