import { adamFamily } from './adam.js';

/** AdamW: Adam with decoupled weight decay, w ← w·(1 − lr·wd) before the update (torch.optim.AdamW). */
export const adamw = adamFamily({
  name: 'adamw',
  title: 'AdamW',
  torch: 'torch.optim.AdamW(lr, betas=(β1, β2), eps, weight_decay=0.01, amsgrad=False)',
  decoupled: true,
  defaultWeightDecay: 0.01,
});
