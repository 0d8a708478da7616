/**
 * matmul_vec4: the tiled matmul with vec4 loads and stores, for aligned shapes (shaders/matmul_vec4.wgsl).
 * Its own module so that only tuned plans load it (see `matmulKernel` in matmul.ts, which describes its
 * dispatches); its results equal the `tiled` kernel's bit for bit.
 */
// biome-ignore lint/correctness/useImportExtensions: a Vite `?raw` import of the WGSL source
import source from '../../shaders/matmul_vec4.wgsl?raw';
import { Kernel } from './kernel.js';

export const MATMUL_VEC4 = new Kernel('matmul_vec4', source);
