/**
 * A kernel's contract with its shader, declared once: each wrapper describes a dispatch as a
 * `KernelCall` — the entry point, `#if` flags, `override` constants, the resources by the names the
 * WGSL gives them and the uniform structs by field name — and `Kernel` turns the names into binding
 * indices and byte offsets by reading the shader (reflect.ts). Nothing is numbered by hand, and a
 * wrapper that names a binding or a field the shader lacks, or leaves one unset, fails on the CPU
 * (`Kernel.resolve`, which the contract tests run for every wrapper without a GPU).
 */
import type { GpuContext, PipelineRequest } from '../gpu/context.js';
import { preprocessWgsl, type ShaderFlags } from '../gpu/preprocess.js';
import { type BufferRef, type GpuOp, makeOp, type OpScope } from './op.js';
import { identifiersReachedFrom, packStruct, reflectWgsl, type WgslReflection } from './reflect.js';

/** A WGSL module appended to a shader: an activation's functions, an optimizer's update. */
export interface WgslModule {
  /** Names it in pipeline keys and labels, e.g. `activations/gelu`. */
  readonly name: string;
  readonly source: string;
}

/** One dispatch of a kernel, described by name. */
export interface KernelCall {
  /** Labels every GPU object of the op. */
  label: string;
  entryPoint: string;
  /** `#if ${flag}` values (wgsl-preprocessor). */
  flags?: ShaderFlags;
  /** WGSL `override` constants. */
  constants?: Readonly<Record<string, number>>;
  /** Modules appended to the shader before it is preprocessed (WGSL allows use before declaration). */
  modules?: readonly WgslModule[];
  /** Storage resources by the shader's variable names. An undefined entry is left out (a flag removed it). */
  bindings: Readonly<Record<string, BufferRef | undefined>>;
  /** Uniform structs by the shader's variable name, their fields by name; a buffer is made for each. */
  uniforms?: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Workgroups dispatched (x, y, z). */
  workgroups: readonly [number, number?, number?];
}

/** A call with its names resolved against the shader: what `prepare` hands to WebGPU. */
export interface ResolvedCall {
  /** The WGSL after appending modules and preprocessing. */
  code: string;
  reflection: WgslReflection;
  /** Storage resources by binding index. */
  storage: Map<number, BufferRef>;
  /** Uniform buffers' contents by binding index, and the struct each holds. */
  uniforms: Map<number, { name: string; words: Uint32Array<ArrayBuffer> }>;
}

/** A prepared dispatch whose uniforms can be rewritten (a learning rate, a batch start) without rebuilding it. */
export interface KernelOp extends GpuOp {
  /** Rewrites uniform `name` (every field; queue.writeBuffer, so ordered before the next submit). */
  setUniform(name: string, values: Readonly<Record<string, number>>): void;
}

export class Kernel {
  /**
   * @param name the shader's file stem (`shaders/<name>.wgsl`), used in labels and errors
   * @param source the WGSL as imported (`?raw`, includes resolved by the build)
   */
  constructor(
    readonly name: string,
    readonly source: string,
  ) {}

  /** Resolves a call's names against the shader, with no GPU: throws on any mismatch. */
  resolve(call: KernelCall): ResolvedCall {
    const where = `${call.label} (shaders/${this.name}.wgsl)`;
    const modules = call.modules ?? [];
    const text = modules.length ? [this.source, ...modules.map((m) => m.source)].join('\n') : this.source;
    const code = call.flags ? preprocessWgsl(text, call.flags, this.name) : text;
    const reflection = reflectWgsl(code, where);
    let used: Set<string>;
    try {
      used = identifiersReachedFrom(code, call.entryPoint);
    } catch {
      throw new Error(`${where}: no entry point ${call.entryPoint}`);
    }
    for (const name of Object.keys(call.constants ?? {})) {
      if (!reflection.overrides.has(name)) {
        throw new Error(
          `${where}: no override constant ${name} (declared: ${[...reflection.overrides.keys()].join(', ') || 'none'})`,
        );
      }
    }
    const storage = new Map<number, BufferRef>();
    const uniforms = new Map<number, { name: string; words: Uint32Array<ArrayBuffer> }>();
    const given = new Set<string>();
    for (const [name, ref] of Object.entries(call.bindings)) {
      if (ref === undefined) continue;
      const info = reflection.bindings.get(name);
      if (!info) throw new Error(`${where}: the shader has no binding ${name} (it has ${list(reflection)})`);
      if (info.space !== 'storage') throw new Error(`${where}: ${name} is a uniform; give it in uniforms`);
      if (!used.has(name)) throw new Error(`${where}: ${name} is not used by entry point ${call.entryPoint}`);
      storage.set(info.binding, ref);
      given.add(name);
    }
    for (const [name, values] of Object.entries(call.uniforms ?? {})) {
      const info = reflection.bindings.get(name);
      if (info?.space !== 'uniform') {
        throw new Error(`${where}: the shader has no uniform ${name} (it has ${list(reflection)})`);
      }
      if (!used.has(name)) throw new Error(`${where}: ${name} is not used by entry point ${call.entryPoint}`);
      const struct = reflection.structs.get(info.type);
      if (!struct) throw new Error(`${where}: uniform ${name} has type ${info.type}, not a struct of f32/u32/i32`);
      uniforms.set(info.binding, { name, words: packStruct(struct, values, `${where} ${name}`) });
      given.add(name);
    }
    for (const name of reflection.bindings.keys()) {
      if (used.has(name) && !given.has(name)) {
        throw new Error(`${where}: binding ${name} is used by entry point ${call.entryPoint} but not given`);
      }
    }
    return { code, reflection, storage, uniforms };
  }

  /** What the context compiles for a call (its cache key). */
  private request(call: KernelCall, code = this.resolve(call).code): PipelineRequest {
    return {
      shader: this.name,
      source: code,
      entryPoint: call.entryPoint,
      key: JSON.stringify([call.flags ?? {}, (call.modules ?? []).map((m) => m.name)]),
      constants: call.constants,
    };
  }

  /** Whether the device already has this call's pipeline (compiled or compiling): preparing it compiles nothing. */
  isCompiled(ctx: GpuContext, call: KernelCall): boolean {
    return ctx.hasPipeline(this.request(call));
  }

  /** Compiles (once per distinct shader variant, cached by the context) and binds a call. */
  async prepare(ctx: GpuContext, scope: OpScope, call: KernelCall): Promise<KernelOp> {
    const resolved = this.resolve(call);
    const pipeline = await ctx.pipeline(this.request(call, resolved.code));
    const entries: Record<number, BufferRef> = {};
    for (const [binding, ref] of resolved.storage) entries[binding] = ref;
    const uniformBuffers = new Map<string, GPUBuffer>();
    for (const [binding, { name, words }] of resolved.uniforms) {
      const buffer = scope.uniform(`${call.label}.${name}`, words);
      uniformBuffers.set(name, buffer);
      entries[binding] = buffer;
    }
    const op = makeOp(ctx, call.label, pipeline, entries, call.workgroups);
    return {
      label: op.label,
      encode: op.encode,
      setUniform: (name, values) => {
        const buffer = uniformBuffers.get(name);
        const struct = resolved.reflection.structs.get(resolved.reflection.bindings.get(name)?.type ?? '');
        if (!buffer || !struct) throw new Error(`${call.label}: no uniform ${name} to set`);
        ctx.device.queue.writeBuffer(buffer, 0, packStruct(struct, values, `${call.label} ${name}`));
      },
    };
  }
}

function list(reflection: WgslReflection): string {
  return [...reflection.bindings.keys()].join(', ') || 'none';
}
