// The Float64 CPU reference: the twin of every GPU kernel, and the gradient check of the whole network.
export * from './activation';
export * from './argmax';
export * from './bce';
export * from './bias_grad';
export * from './gather';
export * from './gradcheck';
export * from './matmul';
export * from './metrics';
export * from './mlp';
export * from './optimizer';
export * from './softmax';
export * from './softmax_xent';
