import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { isPortBatch, PortOutbox } from '../../src/protocol/port-batch.js';

type Msg = { t: string; n?: number; f?: unknown };

let channels: MessageChannel[] = [];
afterEach(() => {
  for (const c of channels) {
    c.port1.close();
    c.port2.close();
  }
  channels = [];
});

/** An outbox on port1 and everything port2 receives, raw (batches as they came). */
function setup() {
  const channel = new MessageChannel();
  channels.push(channel);
  const received: unknown[] = [];
  channel.port2.on('message', (m: unknown) => received.push(m));
  const refused: Array<{ msg: Msg; err: unknown }> = [];
  let port: MessagePort | undefined = channel.port1;
  const outbox = new PortOutbox<Msg>(
    () => port,
    (msg, err) => refused.push({ msg, err }),
  );
  return { outbox, received, refused, close: () => (port = undefined) };
}

const arrived = async (received: unknown[], n: number) => {
  for (let i = 0; i < 200 && received.length < n; i++) await new Promise((r) => setTimeout(r, 5));
};
const flat = (received: unknown[]): Msg[] => received.flatMap((m) => (isPortBatch<Msg>(m) ? m.msgs : [m as Msg]));

describe('PortOutbox', () => {
  it('the first message of a turn goes at once, the rest of the turn as one batch, in order; a lone message as it is', async () => {
    const { outbox, received } = setup();
    for (let n = 0; n < 5; n++) outbox.post({ t: 'res', n });
    await arrived(received, 2);
    expect(received).toEqual([
      { t: 'res', n: 0 },
      { t: 'batch', msgs: [1, 2, 3, 4].map((n) => ({ t: 'res', n })) },
    ]);
    outbox.post({ t: 'ping', n: 9 });
    await arrived(received, 3);
    expect(received[2]).toEqual({ t: 'ping', n: 9 });
  });

  it('does not hold the first message of a turn while that turn goes on', async () => {
    const { outbox, received } = setup();
    outbox.post({ t: 'res', n: 1 });
    outbox.post({ t: 'res', n: 2 });
    // the turn is still going on (no setImmediate has run): the first is already on its way
    const start = Date.now();
    while (Date.now() - start < 30) {
      // keeps this turn busy
    }
    await new Promise((r) => setTimeout(r, 0)); // timers phase: before the turn's check phase flushes
    expect(flat(received)[0]).toEqual({ t: 'res', n: 1 });
    await arrived(received, 2);
    expect(flat(received)).toEqual([
      { t: 'res', n: 1 },
      { t: 'res', n: 2 },
    ]);
  });

  it('a message with a transfer list sends what was queued first, then goes alone and moves its buffer', async () => {
    const { outbox, received } = setup();
    outbox.post({ t: 'a' });
    outbox.post({ t: 'b' });
    const buf = new ArrayBuffer(8);
    outbox.post({ t: 'c', f: buf }, [buf]);
    outbox.post({ t: 'd' });
    expect(buf.byteLength).toBe(0); // moved at once
    await arrived(received, 4);
    expect(flat(received).map((m) => m.t)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('flush sends at once (before a port closes)', async () => {
    const { outbox, received } = setup();
    outbox.post({ t: 'cancel' });
    outbox.flush();
    await arrived(received, 1);
    expect(received).toEqual([{ t: 'cancel' }]);
  });

  it('a message that cannot be cloned is refused on its own; the rest of its batch still goes', async () => {
    const { outbox, received, refused } = setup();
    outbox.post({ t: 'res', n: 1 });
    outbox.post({ t: 'res', n: 2, f: () => 'not cloneable' });
    outbox.post({ t: 'res', n: 3 });
    await arrived(received, 2);
    expect(flat(received)).toEqual([
      { t: 'res', n: 1 },
      { t: 'res', n: 3 },
    ]);
    expect(refused).toHaveLength(1);
    expect(refused[0]?.msg.n).toBe(2);
    expect(String(refused[0]?.err)).toMatch(/could not be cloned/);
  });

  it('with no port (closed), messages are dropped, never thrown', async () => {
    const { outbox, received, close } = setup();
    outbox.post({ t: 'first' });
    outbox.post({ t: 'late' });
    close();
    outbox.post({ t: 'after' });
    await new Promise((r) => setTimeout(r, 20));
    expect(flat(received)).toEqual([{ t: 'first' }]);
  });
});
