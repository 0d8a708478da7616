/**
 * The heads' two registries (src/model/heads): the light one that inference and specs read
 * (outputs.ts) and the full one with the losses (index.ts) must describe the same heads, with the
 * full definitions built on the very outputs objects inference uses.
 */
import { describe, expect, it } from 'vitest';
import { HEAD_REGISTRY } from '../../src/model/heads/index.js';
import { HEAD_OUTPUTS } from '../../src/model/heads/outputs.js';

describe('head registries', () => {
  it('name the same heads', () => {
    expect(Object.keys(HEAD_REGISTRY).sort()).toEqual(Object.keys(HEAD_OUTPUTS).sort());
  });

  for (const [name, definition] of Object.entries(HEAD_REGISTRY)) {
    it(`${name}: the definition's outputs are the registered outputs, and agree with it`, () => {
      const outputs = HEAD_OUTPUTS[name as keyof typeof HEAD_OUTPUTS];
      expect(definition.outputs).toBe(outputs);
      expect(definition.name).toBe(name);
      for (const key of ['name', 'params', 'minOutputs', 'prediction', 'targets', 'prepareOutputs'] as const) {
        expect(definition[key], key).toBe(outputs[key]);
      }
      // A head that transforms the logits on the GPU has a Float64 twin of it, and only then.
      expect(definition.outputsRef === undefined).toBe(outputs.prepareOutputs === undefined);
    });
  }
});
