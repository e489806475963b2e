import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/lmdb-env.js';
import { RunJournal, type JournalEntry } from '../../src/store/run-journal.js';
import { tempDir } from '../support/kernel.js';

let cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

function open(dir: string): Store {
  const store = openStore(dir);
  cleanups.push(() => store.close());
  return store;
}

const turn = (id: string): JournalEntry => ({
  kind: 'assistant',
  content: [{ type: 'tool_use', id, name: 'echo', input: { message: id } }],
});

describe('run journal', () => {
  it('keeps each run in order, past ten entries, across a reopen, and drops a run whole', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const first = open(dir);
    const journal = new RunJournal(first);
    const a: JournalEntry[] = [];
    for (let i = 0; i < 12; i++) {
      const entries: JournalEntry[] = [
        turn(`c${i}`),
        { kind: 'tool_started', tool_use_id: `c${i}`, name: 'echo' },
        { kind: 'tool_result', tool_use_id: `c${i}`, content: `r${i}`, is_error: false },
      ];
      for (const e of entries) journal.append('run-a', e);
      a.push(...entries);
    }
    journal.append('run-b', turn('b0'));
    expect(journal.load('run-a')).toEqual(a);
    await first.close();
    cleanups.pop();

    // a new process continues the sequence after the last stored entry
    const second = open(dir);
    const again = new RunJournal(second);
    expect(again.load('run-a')).toEqual(a);
    again.append('run-a', turn('after-restart'));
    expect(again.load('run-a').at(-1)).toEqual(turn('after-restart'));
    expect(again.load('run-a')).toHaveLength(a.length + 1);
    again.drop('run-a');
    expect(again.load('run-a')).toEqual([]);
    expect(again.load('run-b')).toEqual([turn('b0')]);
  });
});
