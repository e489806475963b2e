import { AaosError, ErrorCode } from '../errors/index.js';
import type { Embedder } from './embedder.js';
import { HashedNgramEmbedder } from './hashed-ngram-embedder.js';
import { OpenAICompatibleEmbedder } from './openai-embedder.js';

/**
 * AAOS_EMBEDDINGS_BASE_URL + AAOS_EMBEDDINGS_MODEL (+ AAOS_EMBEDDINGS_API_KEY,
 * AAOS_EMBEDDINGS_DIMS) select an OpenAI-compatible endpoint; otherwise the offline
 * hashed-ngram embedder.
 */
export function embedderFromEnv(env: Readonly<Record<string, string | undefined>>): Embedder {
  const baseUrl = env['AAOS_EMBEDDINGS_BASE_URL']?.trim();
  const model = env['AAOS_EMBEDDINGS_MODEL']?.trim();
  if (!baseUrl) {
    if (model) {
      throw new AaosError(ErrorCode.CONFIG_INVALID, 'AAOS_EMBEDDINGS_MODEL is set but AAOS_EMBEDDINGS_BASE_URL is not', {
        variable: 'AAOS_EMBEDDINGS_BASE_URL',
      });
    }
    return new HashedNgramEmbedder();
  }
  if (!model) {
    throw new AaosError(ErrorCode.CONFIG_INVALID, 'AAOS_EMBEDDINGS_BASE_URL is set but AAOS_EMBEDDINGS_MODEL is not', {
      variable: 'AAOS_EMBEDDINGS_MODEL',
    });
  }
  const dimsText = env['AAOS_EMBEDDINGS_DIMS']?.trim();
  let dims: number | undefined;
  if (dimsText) {
    dims = Number(dimsText);
    if (!Number.isInteger(dims) || dims <= 0) {
      throw new AaosError(ErrorCode.CONFIG_INVALID, `AAOS_EMBEDDINGS_DIMS must be a positive integer, got '${dimsText}'`, {
        variable: 'AAOS_EMBEDDINGS_DIMS',
      });
    }
  }
  const apiKey = env['AAOS_EMBEDDINGS_API_KEY']?.trim();
  return new OpenAICompatibleEmbedder({ baseUrl, model, ...(apiKey ? { apiKey } : {}), ...(dims !== undefined ? { dims } : {}) });
}
