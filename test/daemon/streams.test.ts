import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/audit/event.js';
import type { Connection } from '../../src/daemon/connection.js';
import { endFrameForRun, FrameStream, STREAM_FRAME_VERSION, STREAM_LAG_BYTES } from '../../src/daemon/streams.js';
import type { RunRecord } from '../../src/store/run-store.js';

/** A connection whose queued output the test sets; records what was sent. */
function fakeConnection(): { conn: Connection; sent: unknown[]; setQueued(bytes: number): void } {
  const sent: unknown[] = [];
  let queued = 0;
  const conn = {
    send: (m: unknown) => {
      sent.push(m);
      return true;
    },
    onClose: () => () => {},
    get queuedBytes() {
      return queued;
    },
  } as unknown as Connection;
  return { conn, sent, setQueued: (b) => (queued = b) };
}

const event = (n: number): AuditEvent =>
  ({
    id: `e${n}`,
    ts: new Date().toISOString(),
    type: 'ToolInvoked',
    agent_id: 'a',
    agent_name: 'a',
    tool: 'echo',
    args_preview: '',
  }) as unknown as AuditEvent;

describe('stream frames', () => {
  it('every frame carries the format version', () => {
    const { conn, sent } = fakeConnection();
    const stream = new FrameStream(conn, 7);
    stream.start();
    stream.push({ kind: 'event', stream: 7, event: event(1) });
    expect(sent[0]).toMatchObject({ v: STREAM_FRAME_VERSION, kind: 'event', stream: 7 });
  });

  it('a client that falls behind misses events and is told how many in a lag frame; the end frame always arrives', () => {
    const { conn, sent, setQueued } = fakeConnection();
    const stream = new FrameStream(conn, 1);
    stream.start();
    stream.push({ kind: 'event', stream: 1, event: event(1) });
    setQueued(STREAM_LAG_BYTES + 1);
    for (let i = 2; i <= 11; i++) stream.push({ kind: 'event', stream: 1, event: event(i) });
    expect(sent).toHaveLength(1); // nothing buffered for the slow reader
    setQueued(0);
    stream.push({ kind: 'event', stream: 1, event: event(12) });
    expect(sent.slice(1)).toEqual([
      { v: 1, kind: 'lag', stream: 1, missed: 10 },
      expect.objectContaining({ kind: 'event', event: expect.objectContaining({ id: 'e12' }) }),
    ]);
    setQueued(STREAM_LAG_BYTES + 1);
    stream.push({ kind: 'event', stream: 1, event: event(13) });
    const rec = {
      run_id: 'r',
      state: 'completed',
      result: 'the answer',
      created_at: new Date().toISOString(),
    } as RunRecord;
    stream.push(endFrameForRun(1, rec));
    expect(sent.slice(3)).toEqual([
      { v: 1, kind: 'lag', stream: 1, missed: 1 },
      expect.objectContaining({ kind: 'end', exit_code: 0, final_text: 'the answer', status: 'completed' }),
    ]);
  });

  it('the end frame of a failed run has exit code 1; of an unfinished one, null', () => {
    const base = { run_id: 'r', created_at: new Date().toISOString() };
    expect(
      endFrameForRun(1, { ...base, state: 'failed', error: { code: 'X', message: 'm' } } as RunRecord),
    ).toMatchObject({ exit_code: 1, final_text: null });
    expect(endFrameForRun(1, { ...base, state: 'running' } as RunRecord)).toMatchObject({ exit_code: null });
  });
});
