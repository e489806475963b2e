import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/lmdb-env.js';
import { agentKey, agentRange, isKeyableId } from '../../src/store/keys.js';
import { tempDir } from '../support/kernel.js';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

describe('agent-scoped keys', () => {
  it('round-trip as strings and stay inside their agent range across a reopen (UUID ids and suffixes)', async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const a = randomUUID();
    const b = randomUUID();
    let store = openStore(t.dir);
    store.transaction(() => {
      for (let i = 0; i < 3; i++) store.db('memory').putSync(agentKey(a, randomUUID()), { i });
      store.db('memory').putSync(agentKey(b, randomUUID()), { i: 9 });
    });
    await store.close();
    store = openStore(t.dir);
    const db = store.db('memory');
    expect(db.getKeysCount(agentRange(a))).toBe(3);
    expect(db.getKeysCount(agentRange(b))).toBe(1);
    for (const key of db.getKeys(agentRange(a))) expect(typeof key).toBe('string');
    await store.close();
  });

  it('refuses ids that cannot scope keys', () => {
    expect(isKeyableId('abc/summarizer')).toBe(false);
    expect(isKeyableId('')).toBe(false);
    expect(() => agentKey('a/b', 'x')).toThrow(/invalid agent id/);
  });
});
