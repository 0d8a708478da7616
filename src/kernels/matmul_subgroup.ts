/**
 * matmul_subgroup: the direct matmul for CPU implementations whose subgroups are their SIMD registers
 * (shaders/matmul_subgroup.wgsl): the 4 lanes of a subgroup load distinct rows of op(A) and share them by
 * subgroupShuffle, half the loads of the 8×8 direct kernel for as many multiply-adds. Its own module so
 * that only a device with the `subgroups` feature loads it (see `matmulKernel` in matmul.ts, which
 * describes its dispatches); its results equal the direct kernels' bit for bit.
 */
// biome-ignore lint/correctness/useImportExtensions: a Vite `?raw` import of the WGSL source
import matmulSource from '../../shaders/matmul.wgsl?raw';
// biome-ignore lint/correctness/useImportExtensions: a Vite `?raw` import of the WGSL source
import source from '../../shaders/matmul_subgroup.wgsl?raw';
import { Kernel } from './kernel.js';

/** matmul.wgsl's declarations with the subgroup entry point appended; the directive must open the module. */
export const MATMUL_SUBGROUP = new Kernel('matmul_subgroup', `enable subgroups;\n${matmulSource}\n${source}`);
