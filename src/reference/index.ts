// The Float64 CPU reference: the twin of every GPU kernel, and the gradient check of the whole network.
export * from './activation.js';
export * from './argmax.js';
export * from './bce.js';
export * from './bias_grad.js';
export * from './gather.js';
export * from './gradcheck.js';
export * from './matmul.js';
export * from './metrics.js';
export * from './mlp.js';
export * from './optimizer.js';
export * from './softmax.js';
export * from './softmax_xent.js';
