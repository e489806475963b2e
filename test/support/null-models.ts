import { AaosError, ErrorCode } from '../../src/errors/index.js';
import type { ModelPort } from '../../src/kernel/ports.js';

/** A ModelPort for kernel tests whose agents never call a model. */
export const nullModels: ModelPort = {
  registerAgent() {},
  releaseAgent() {},
  cancelAgent() {},
  maxContextTokens: () => 128_000,
  complete: async () => {
    throw new AaosError(ErrorCode.MODEL_UNAVAILABLE, 'no model in this test');
  },
};
