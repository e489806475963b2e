import { readSetting, type EnvRecord } from '../config/config.js';
import { AaosError, ErrorCode } from '../errors/index.js';
import type { Embedder } from './embedder.js';
import { HashedNgramEmbedder } from './hashed-ngram-embedder.js';
import { OpenAICompatibleEmbedder } from './openai-embedder.js';

/**
 * AAOS_EMBEDDINGS_BASE_URL + AAOS_EMBEDDINGS_MODEL (+ AAOS_EMBEDDINGS_API_KEY,
 * AAOS_EMBEDDINGS_DIMS) select an OpenAI-compatible endpoint; otherwise the offline
 * hashed-ngram embedder.
 */
export function embedderFromEnv(env: EnvRecord): Embedder {
  const baseUrl = readSetting(env, 'AAOS_EMBEDDINGS_BASE_URL');
  const model = readSetting(env, 'AAOS_EMBEDDINGS_MODEL');
  if (!baseUrl) {
    if (model) {
      throw new AaosError(
        ErrorCode.CONFIG_INVALID,
        'AAOS_EMBEDDINGS_MODEL is set but AAOS_EMBEDDINGS_BASE_URL is not',
        {
          variable: 'AAOS_EMBEDDINGS_BASE_URL',
        },
      );
    }
    return new HashedNgramEmbedder();
  }
  if (!model) {
    throw new AaosError(ErrorCode.CONFIG_INVALID, 'AAOS_EMBEDDINGS_BASE_URL is set but AAOS_EMBEDDINGS_MODEL is not', {
      variable: 'AAOS_EMBEDDINGS_MODEL',
    });
  }
  const dims = readSetting(env, 'AAOS_EMBEDDINGS_DIMS');
  const apiKey = readSetting(env, 'AAOS_EMBEDDINGS_API_KEY');
  return new OpenAICompatibleEmbedder({
    baseUrl,
    model,
    ...(apiKey ? { apiKey } : {}),
    ...(dims !== undefined ? { dims } : {}),
  });
}
