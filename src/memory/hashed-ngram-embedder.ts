import type { Embedder } from './embedder.js';

export const HASHED_NGRAM_MODEL = 'hashed-ngram-v1';
export const HASHED_NGRAM_DIMS = 512;

// Function words carry little meaning and would make any two sentences look alike.
const STOPWORDS = new Set(
  (
    'a an the and or but if of to in on at by for with from as into onto over under about ' +
    'is are was were be been being am do does did has have had it its this that these those ' +
    'i me my we our you your he him his she her they them their there here so than then too very ' +
    'can could will would shall should may might must not no yes just also'
  ).split(' '),
);

const FEATURE_WEIGHT = { word: 1, bigram: 0.6, trigram: 0.35 } as const;

/** Light suffix stripping so "sitting", "sits" and "sit" meet. */
export function stem(word: string): string {
  let w = word;
  if (w.length > 4 && w.endsWith('ies')) return `${w.slice(0, -3)}y`;
  if (w.length > 4 && w.endsWith('sses')) return w.slice(0, -2);
  if (w.length > 5 && w.endsWith('ing')) w = undouble(w.slice(0, -3));
  else if (w.length > 4 && w.endsWith('ed')) w = undouble(w.slice(0, -2));
  else if (w.length > 4 && w.endsWith('ly')) w = w.slice(0, -2);
  else if (w.length > 4 && /(?:s|x|z|ch|sh)es$/.test(w)) w = w.slice(0, -2);
  else if (w.length > 3 && w.endsWith('s') && !w.endsWith('ss') && !w.endsWith('us') && !w.endsWith('is'))
    w = w.slice(0, -1);
  return w;
}

function undouble(w: string): string {
  const last = w[w.length - 1];
  if (w.length > 2 && last === w[w.length - 2] && last !== undefined && !'lsz'.includes(last)) return w.slice(0, -1);
  return w;
}

export function tokenize(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** 32-bit FNV-1a over UTF-16 code units, then a final avalanche so low bits are well mixed. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The offline default: lexical similarity from feature hashing. Stemmed content words,
 * word bigrams and character trigrams are hashed (with a sign bit, so collisions cancel out
 * on average) into a fixed vector; counts are damped (1 + ln tf) and the result is L2-normalised.
 */
export class HashedNgramEmbedder implements Embedder {
  readonly model: string;
  readonly dims: number;
  /** a text fills ~50–100 of the 512 dimensions */
  readonly sparse = true;

  constructor(options: { dims?: number } = {}) {
    const dims = options.dims ?? HASHED_NGRAM_DIMS;
    if (!Number.isInteger(dims) || dims < 8)
      throw new RangeError(`hashed-ngram dims must be an integer ≥ 8, got ${dims}`);
    this.dims = dims;
    // the vector space depends on dims, so the name must too
    this.model = dims === HASHED_NGRAM_DIMS ? HASHED_NGRAM_MODEL : `${HASHED_NGRAM_MODEL}-${dims}`;
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    return texts.map((t) => this.embedOne(t));
  }

  embedOne(text: string): Float32Array {
    const tokens = tokenize(text);
    const content = tokens.filter((t) => !STOPWORDS.has(t));
    // a text of only function words still needs a vector
    const words = (content.length > 0 ? content : tokens).map(stem);
    const counts = new Map<string, number>();
    const add = (feature: string): void => {
      counts.set(feature, (counts.get(feature) ?? 0) + 1);
    };
    for (let i = 0; i < words.length; i++) {
      const w = words[i] as string;
      add(`w:${w}`);
      const next = words[i + 1];
      if (next !== undefined) add(`b:${w} ${next}`);
      const padded = `#${w}#`;
      for (let j = 0; j + 3 <= padded.length; j++) add(`c:${padded.slice(j, j + 3)}`);
    }
    const vec = new Float32Array(this.dims);
    for (const [feature, tf] of counts) {
      const h = hash32(feature);
      const slot = h % this.dims;
      const sign = h & 0x80000000 ? -1 : 1;
      vec[slot] = (vec[slot] ?? 0) + sign * weightOf(feature) * (1 + Math.log(tf));
    }
    let norm = 0;
    for (const x of vec) norm += x * x;
    if (norm > 0) {
      const inv = 1 / Math.sqrt(norm);
      for (let i = 0; i < vec.length; i++) vec[i] = (vec[i] ?? 0) * inv;
    }
    return vec;
  }
}

/** A feature's weight, from its namespace prefix: whole words say most, trigrams least. */
function weightOf(feature: string): number {
  return feature.startsWith('w:')
    ? FEATURE_WEIGHT.word
    : feature.startsWith('b:')
      ? FEATURE_WEIGHT.bigram
      : FEATURE_WEIGHT.trigram;
}
