import { AaosError, ErrorCode } from '../errors/index.js';
import type { Embedder } from './embedder.js';

export interface OpenAICompatibleEmbedderOptions {
  /** e.g. http://127.0.0.1:11434 (Ollama) or https://api.openai.com/v1 */
  baseUrl: string;
  model: string;
  apiKey?: string;
  /** expected vector size; learnt from the first reply when omitted */
  dims?: number;
  timeoutMs?: number;
  /** texts per request */
  batchSize?: number;
  fetch?: typeof fetch;
}

/** `POST /v1/embeddings` as spoken by OpenAI, Ollama, vLLM, LM Studio and others. */
export class OpenAICompatibleEmbedder implements Embedder {
  readonly model: string;
  readonly url: string;
  readonly #apiKey: string | undefined;
  readonly #timeoutMs: number;
  readonly #batchSize: number;
  readonly #fetch: typeof fetch;
  #dims: number;

  constructor(options: OpenAICompatibleEmbedderOptions) {
    let base: URL;
    try {
      base = new URL(options.baseUrl);
    } catch {
      throw new AaosError(ErrorCode.CONFIG_INVALID, `invalid embeddings base URL '${options.baseUrl}'`, {
        base_url: options.baseUrl,
      });
    }
    const path = base.pathname.replace(/\/+$/, '');
    // accept both the server root and an OpenAI-style base that already ends in /v1
    base.pathname = path.endsWith('/v1') ? `${path}/embeddings` : `${path}/v1/embeddings`;
    this.url = base.toString();
    this.model = options.model;
    this.#apiKey = options.apiKey;
    this.#dims = options.dims ?? 0;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#batchSize = options.batchSize ?? 64;
    this.#fetch = options.fetch ?? fetch;
  }

  get dims(): number {
    return this.#dims;
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let i = 0; i < texts.length; i += this.#batchSize)
      out.push(...(await this.#request(texts.slice(i, i + this.#batchSize))));
    return out;
  }

  async #request(texts: readonly string[]): Promise<Float32Array[]> {
    const fail = (message: string, details: Record<string, unknown> = {}, cause?: unknown): AaosError =>
      new AaosError(
        ErrorCode.EMBEDDING_FAILED,
        `embeddings request to ${this.url} failed: ${message}`,
        { url: this.url, model: this.model, ...details },
        { cause },
      );
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.#apiKey) headers['authorization'] = `Bearer ${this.#apiKey}`;
    let response: Response;
    try {
      response = await this.#fetch(this.url, {
        method: 'POST',
        headers,
        body: JSON.stringify({ model: this.model, input: texts }),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (err) {
      throw fail(err instanceof Error ? err.message : String(err), {}, err);
    }
    const bodyText = await response.text().catch(() => '');
    if (!response.ok) throw fail(`HTTP ${response.status}: ${bodyText.slice(0, 300)}`, { status: response.status });
    let body: unknown;
    try {
      body = JSON.parse(bodyText);
    } catch {
      throw fail('the reply is not JSON', { status: response.status });
    }
    const data = (body as { data?: unknown }).data;
    if (!Array.isArray(data) || data.length !== texts.length) {
      throw fail(`expected ${texts.length} embeddings in data[], got ${Array.isArray(data) ? data.length : 'none'}`, {
        status: response.status,
      });
    }
    const vectors = new Array<Float32Array | undefined>(texts.length);
    data.forEach((item: unknown, position: number) => {
      const { index, embedding } = (item ?? {}) as { index?: unknown; embedding?: unknown };
      const at = typeof index === 'number' ? index : position;
      if (!Array.isArray(embedding) || !embedding.every((x) => typeof x === 'number') || at < 0 || at >= texts.length) {
        throw fail(`data[${position}] has no numeric embedding`, { status: response.status });
      }
      if (this.#dims === 0) this.#dims = embedding.length;
      if (embedding.length !== this.#dims) {
        throw fail(`dimension mismatch: expected ${this.#dims}, got ${embedding.length}`, {
          expected: this.#dims,
          actual: embedding.length,
        });
      }
      vectors[at] = Float32Array.from(embedding as number[]);
    });
    return vectors.map((v, i) => {
      if (v === undefined) throw fail(`no embedding for input ${i}`);
      return v;
    });
  }
}
