import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { embedderFromEnv } from '../../src/memory/embedder-from-env.js';
import { HASHED_NGRAM_MODEL, HashedNgramEmbedder, stem } from '../../src/memory/hashed-ngram-embedder.js';
import { OpenAICompatibleEmbedder } from '../../src/memory/openai-embedder.js';

const cosine = (a: Float32Array, b: Float32Array): number => {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(na * nb);
};

describe('HashedNgramEmbedder', () => {
  const embedder = new HashedNgramEmbedder();

  it('is deterministic, L2-normalised and named', async () => {
    const [a, b] = await embedder.embed(['The cat sat on the mat', 'The cat sat on the mat']);
    expect(embedder.model).toBe(HASHED_NGRAM_MODEL);
    expect(a!.length).toBe(512);
    expect(Array.from(a!)).toEqual(Array.from(b!));
    let norm = 0;
    for (const x of a!) norm += x * x;
    expect(norm).toBeCloseTo(1, 5);
  });

  it('stems common suffixes', () => {
    expect(['sitting', 'cats', 'boxes', 'jumped', 'quickly', 'parties', 'glass'].map(stem)).toEqual([
      'sit',
      'cat',
      'box',
      'jump',
      'quick',
      'party',
      'glass',
    ]);
  });

  it('ranks a paraphrase above an unrelated text', async () => {
    const [q, para, unrelated] = await embedder.embed([
      'the cat sat on the mat',
      'a cat was sitting on a mat',
      'quarterly revenue rose in europe',
    ]);
    const near = cosine(q!, para!);
    const far = cosine(q!, unrelated!);
    expect(near).toBeGreaterThan(far);
    expect(near).toBeGreaterThan(0.3);
    expect(Math.abs(far)).toBeLessThan(0.2);
  });

  it('gives a vector to text made only of stopwords, and zero to empty text', async () => {
    const [stop, empty] = await embedder.embed(['it is what it is', '']);
    expect(stop!.some((x) => x !== 0)).toBe(true);
    expect(empty!.every((x) => x === 0)).toBe(true);
  });

  it('names a different vector space for a different size', () => {
    expect(new HashedNgramEmbedder({ dims: 128 }).model).not.toBe(HASHED_NGRAM_MODEL);
  });
});

describe('OpenAICompatibleEmbedder against a loopback /v1/embeddings server', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  async function serve(
    handler: (body: { model: string; input: string[] }, req: IncomingMessage) => { status: number; body: unknown },
  ): Promise<string> {
    server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
      req.on('end', () => {
        if (req.url !== '/v1/embeddings' || req.method !== 'POST') {
          res.writeHead(404).end('not found');
          return;
        }
        const out = handler(JSON.parse(raw) as { model: string; input: string[] }, req);
        res.writeHead(out.status, { 'content-type': 'application/json' }).end(JSON.stringify(out.body));
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
  }

  it('embeds a batch, in input order, with the key and model it was given', async () => {
    const seen: Array<{ auth: string | undefined; model: string }> = [];
    const base = await serve((body, req) => {
      seen.push({ auth: req.headers['authorization'], model: body.model });
      // answer out of order; `index` says where each belongs
      const data = body.input
        .map((text, index) => ({ object: 'embedding', index, embedding: [text.length, index, 1] }))
        .reverse();
      return { status: 200, body: { object: 'list', data, model: body.model } };
    });
    const embedder = new OpenAICompatibleEmbedder({ baseUrl: base, model: 'nomic-embed-text', apiKey: 'sk-test' });
    expect(embedder.dims).toBe(0);
    const vectors = await embedder.embed(['a', 'bbb']);
    expect(vectors.map((v) => Array.from(v))).toEqual([
      [1, 0, 1],
      [3, 1, 1],
    ]);
    expect(embedder.dims).toBe(3);
    expect(seen).toEqual([{ auth: 'Bearer sk-test', model: 'nomic-embed-text' }]);
    // an OpenAI-style base ending in /v1 reaches the same endpoint
    const v1 = new OpenAICompatibleEmbedder({ baseUrl: `${base}/v1/`, model: 'm' });
    expect(v1.url).toBe(`${base}/v1/embeddings`);
    expect((await v1.embed(['zz']))[0]!.length).toBe(3);
  });

  it('reports an HTTP error naming the URL and the status', async () => {
    const base = await serve(() => ({ status: 503, body: { error: 'loading model' } }));
    const embedder = new OpenAICompatibleEmbedder({ baseUrl: base, model: 'm' });
    const err = await embedder.embed(['x']).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'AAOS_ERR_EMBEDDING_FAILED',
      details: { url: `${base}/v1/embeddings`, status: 503 },
    });
    expect((err as Error).message).toContain(`${base}/v1/embeddings`);
    expect((err as Error).message).toContain('503');
  });

  it('checks the dimensions it gets', async () => {
    let size = 4;
    const base = await serve((body) => ({
      status: 200,
      body: { data: body.input.map((_, index) => ({ index, embedding: new Array(size).fill(0.5) })) },
    }));
    const fixed = new OpenAICompatibleEmbedder({ baseUrl: base, model: 'm', dims: 768 });
    await expect(fixed.embed(['x'])).rejects.toMatchObject({
      code: 'AAOS_ERR_EMBEDDING_FAILED',
      details: { expected: 768, actual: 4 },
    });
    const learning = new OpenAICompatibleEmbedder({ baseUrl: base, model: 'm' });
    await learning.embed(['x']);
    size = 5;
    await expect(learning.embed(['y'])).rejects.toThrow(/dimension mismatch: expected 4, got 5/);
  });

  it('reports a connection failure and a malformed reply', async () => {
    const base = await serve(() => ({ status: 200, body: { data: [] } }));
    await expect(new OpenAICompatibleEmbedder({ baseUrl: base, model: 'm' }).embed(['x'])).rejects.toThrow(
      /expected 1 embeddings/,
    );
    await expect(
      new OpenAICompatibleEmbedder({ baseUrl: 'http://127.0.0.1:1', model: 'm' }).embed(['x']),
    ).rejects.toMatchObject({
      code: 'AAOS_ERR_EMBEDDING_FAILED',
    });
  });
});

describe('embedderFromEnv', () => {
  it('defaults to the offline embedder and selects the endpoint from the environment', () => {
    expect(embedderFromEnv({}).model).toBe(HASHED_NGRAM_MODEL);
    const remote = embedderFromEnv({
      AAOS_EMBEDDINGS_BASE_URL: 'http://127.0.0.1:11434',
      AAOS_EMBEDDINGS_MODEL: 'nomic-embed-text',
      AAOS_EMBEDDINGS_API_KEY: 'k',
    });
    expect(remote).toBeInstanceOf(OpenAICompatibleEmbedder);
    expect(remote.model).toBe('nomic-embed-text');
    expect((remote as OpenAICompatibleEmbedder).url).toBe('http://127.0.0.1:11434/v1/embeddings');
  });

  it('rejects half a configuration', () => {
    expect(() => embedderFromEnv({ AAOS_EMBEDDINGS_BASE_URL: 'http://x' })).toThrow(
      expect.objectContaining({ code: 'AAOS_ERR_CONFIG_INVALID' }),
    );
    expect(() => embedderFromEnv({ AAOS_EMBEDDINGS_MODEL: 'm' })).toThrow(/AAOS_EMBEDDINGS_BASE_URL/);
    expect(() =>
      embedderFromEnv({
        AAOS_EMBEDDINGS_BASE_URL: 'http://x',
        AAOS_EMBEDDINGS_MODEL: 'm',
        AAOS_EMBEDDINGS_DIMS: 'many',
      }),
    ).toThrow(/AAOS_EMBEDDINGS_DIMS/);
  });
});
