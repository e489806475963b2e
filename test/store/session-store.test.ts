import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HistoryEntry } from '../../src/context/history-entry.js';
import type { Message } from '../../src/providers/model.js';
import { openStore, type RecordIssue, type Store } from '../../src/store/lmdb-env.js';
import { SessionStore } from '../../src/store/session-store.js';

const user = (content: string): Message => ({ role: 'user', content });
const text = (t: string): Message => ({ role: 'assistant', content: [{ type: 'text', text: t }] });
const call = (...ids: string[]): Message => ({
  role: 'assistant',
  content: ids.map((id) => ({ type: 'tool_use' as const, id, name: 'file_read', input: { path: `/tmp/${id}` } })),
});
const result = (id: string): Message => ({
  role: 'tool_result',
  tool_use_id: id,
  content: `out ${id}`,
  is_error: false,
});

let dir: string;
let store: Store;
let issues: RecordIssue[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'aaos-session-'));
  issues = [];
  store = openStore(dir, { onInvalid: (i) => issues.push(i) });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SessionStore', () => {
  it('appends and loads in order, per agent', () => {
    const sessions = new SessionStore(store);
    expect(sessions.load('a1')).toEqual([]);
    sessions.append('a1', [user('one'), text('two')]);
    sessions.append('a2', [user('other agent')]);
    sessions.append('a1', []);
    sessions.append('a1', [call('t1'), result('t1'), text('three')]);
    expect(sessions.load('a1')).toEqual([user('one'), text('two'), call('t1'), result('t1'), text('three')]);
    expect(sessions.load('a2')).toEqual([user('other agent')]);
  });

  it('keeps order past ten and past many appends (numeric, not lexical, keys)', () => {
    const sessions = new SessionStore(store);
    for (let i = 0; i < 25; i++) sessions.append('a1', [user(`m${i}`)]);
    expect(sessions.load('a1').map((m) => (m.role === 'user' ? m.content : ''))).toEqual(
      Array.from({ length: 25 }, (_, i) => `m${i}`),
    );
  });

  it('replaces atomically: a failing replace leaves the old history intact', () => {
    const sessions = new SessionStore(store);
    sessions.append('a1', [user('old 1'), text('old 2'), user('old 3')]);
    const summary: HistoryEntry = { role: 'summary', content: 'before', messages_summarized: 2, source_range: [0, 1] };
    sessions.replace('a1', [summary, user('old 3')]);
    expect(sessions.load('a1')).toEqual([summary, user('old 3')]);
    sessions.append('a1', [text('after')]);
    expect(sessions.load('a1')).toEqual([summary, user('old 3'), text('after')]);

    const bad = { role: 'user', content: 42 } as unknown as HistoryEntry;
    expect(() => sessions.replace('a1', [user('new'), bad])).toThrow(/AAOS_ERR_STORE|refusing to persist/);
    expect(sessions.load('a1')).toEqual([summary, user('old 3'), text('after')]);
  });

  it('rolls back the whole transaction when a write inside it throws', () => {
    const sessions = new SessionStore(store);
    sessions.append('a1', [user('kept')]);
    expect(() =>
      store.transaction(() => {
        sessions.replace('a1', [user('half-written')]);
        throw new Error('crash mid-way');
      }),
    ).toThrow(/crash mid-way/);
    expect(sessions.load('a1')).toEqual([user('kept')]);
  });

  it('clear removes the history but not the archives', () => {
    const sessions = new SessionStore(store);
    sessions.append('a1', [user('x')]);
    sessions.archive('a1', { messages: [user('old')], source_range: [0, 0], reason: 'summarized' });
    sessions.clear('a1');
    sessions.clear('a1');
    expect(sessions.load('a1')).toEqual([]);
    expect(sessions.loadArchives('a1')).toHaveLength(1);
  });

  it('archives in time order and prunes by age with an injected clock', () => {
    let now = 1_000_000;
    const sessions = new SessionStore(store, { now: () => now });
    const day = 86_400_000;
    const first = sessions.archive('a1', { messages: [user('day 0')], source_range: [0, 0], reason: 'summarized' });
    now += 10 * day;
    const second = sessions.archive('a1', { messages: [user('day 10')], source_range: [1, 1], reason: 'dropped' });
    now += 25 * day;
    const third = sessions.archive('a1', { messages: [user('day 35')], source_range: [2, 2], reason: 'summarized' });
    sessions.archive('a2', { messages: [user('other')], source_range: [0, 0], reason: 'summarized' });

    const archives = sessions.loadArchives('a1');
    expect(archives.map((a) => a.id)).toEqual([first, second, third]);
    expect(archives[1]).toMatchObject({
      v: 1,
      agent_id: 'a1',
      reason: 'dropped',
      source_range: [1, 1],
      messages: [user('day 10')],
    });

    // 30-day TTL at day 35: only the day-0 segment is older
    expect(sessions.pruneArchives('a1', 30 * day, now)).toBe(1);
    expect(sessions.loadArchives('a1').map((a) => a.id)).toEqual([second, third]);
    expect(sessions.pruneArchives('a1', 30 * day, now)).toBe(0);
    expect(sessions.loadArchives('a2')).toHaveLength(1);

    expect(sessions.pruneAllArchives(1 * day, now + 2 * day)).toBe(3);
    expect(sessions.loadArchives('a1')).toEqual([]);
    expect(sessions.loadArchives('a2')).toEqual([]);
  });

  it('survives a restart (close and reopen the environment)', async () => {
    const sessions = new SessionStore(store, { now: () => 5000 });
    sessions.append('agent-x', [user('hello'), call('c1'), result('c1'), text('done')]);
    const seg = sessions.archive('agent-x', {
      messages: [user('ancient')],
      source_range: [0, 0],
      reason: 'summarized',
    });
    await store.close();

    store = openStore(dir, { onInvalid: (i) => issues.push(i) });
    const reopened = new SessionStore(store);
    expect(reopened.load('agent-x')).toEqual([user('hello'), call('c1'), result('c1'), text('done')]);
    expect(reopened.loadArchives('agent-x').map((a) => a.id)).toEqual([seg]);
    reopened.append('agent-x', [user('again')]);
    expect(reopened.load('agent-x')).toHaveLength(5);
    expect(issues).toEqual([]);
  });

  it('reports a record of an unknown version and resumes the history after it, pair-safe', () => {
    const sessions = new SessionStore(store);
    sessions.append('a1', [user('a'), text('b'), user('c'), call('t9'), result('t9'), text('d')]);
    const db = store.db('sessions');
    const keys = [...db.getKeys()].map(String);
    // the 4th entry (the tool_use) comes from a future runtime
    store.transaction(() => db.putSync(keys[3] as string, { v: 7, entry: { role: 'hologram' } }));
    const loaded = sessions.load('a1');
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ db: 'sessions', v: 7 });
    expect(issues[0]?.reason).toMatch(/unsupported schema version 7/);
    // the history resumes at the next user turn after the gap: none is left here, and the
    // orphaned tool_result is never returned
    expect(loaded).toEqual([]);
  });
});
