import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawClient, removeDir, startDaemon, streamToEnd, tempDataDir, type DaemonProcess } from './daemon-process.js';

type Msg = Record<string, unknown> & { error?: { code: number; message: string; data?: Record<string, unknown> } };

describe('the socket API against bad input', () => {
  let daemon: DaemonProcess;
  let dir: string;
  beforeAll(async () => {
    dir = tempDataDir();
    daemon = await startDaemon({ dataDir: dir });
  });
  afterAll(async () => {
    const code = await daemon.stop();
    removeDir(dir);
    expect(code).toBe(0);
  });

  async function health(): Promise<Record<string, unknown>> {
    const c = await RawClient.open(daemon.socket);
    try {
      return await c.call('system.health');
    } finally {
      c.close();
    }
  }

  /** Sends raw text and returns the first line the daemon answers with. */
  async function answerTo(raw: string | Buffer): Promise<{ msg: Msg; client: RawClient }> {
    const client = await RawClient.open(daemon.socket);
    client.write(raw);
    const msg = await client.waitFor<Msg>(() => true, 'an answer');
    return { msg, client };
  }

  const table: Array<{ name: string; raw: string; code: number; id?: unknown; message?: RegExp; dataCode?: string }> = [
    { name: 'garbage', raw: 'hello daemon\n', code: -32700, id: null },
    {
      name: 'truncated JSON then newline',
      raw: '{"jsonrpc":"2.0","id":1,"method":"system.he\n',
      code: -32700,
      id: null,
    },
    { name: 'binary noise', raw: '\u0000\u0001\u00ff{{\n', code: -32700, id: null },
    {
      name: 'unknown method',
      raw: '{"jsonrpc":"2.0","id":7,"method":"agent.explode"}\n',
      code: -32601,
      id: 7,
      message: /agent\.explode/,
    },
    { name: 'prototype key as method', raw: '{"jsonrpc":"2.0","id":8,"method":"__proto__"}\n', code: -32601, id: 8 },
    {
      name: 'wrong param type',
      raw: '{"jsonrpc":"2.0","id":9,"method":"agent.status","params":{"agent_id":5}}\n',
      code: -32602,
      id: 9,
      message: /agent_id/,
    },
    {
      name: 'missing param',
      raw: '{"jsonrpc":"2.0","id":10,"method":"run.status","params":{}}\n',
      code: -32602,
      id: 10,
      message: /run_id/,
    },
    {
      name: 'both token and all',
      raw: '{"jsonrpc":"2.0","id":11,"method":"capability.revoke","params":{"agent_id":"x","token_id":"cap_1","all":true}}\n',
      code: -32602,
      id: 11,
      message: /token_id/,
    },
    {
      name: 'not JSON-RPC 2.0',
      raw: '{"jsonrpc":"1.0","id":12,"method":"system.health"}\n',
      code: -32600,
      id: 12,
      message: /jsonrpc/,
    },
    {
      name: 'method not a string',
      raw: '{"jsonrpc":"2.0","id":13,"method":42}\n',
      code: -32600,
      id: 13,
      message: /method/,
    },
    {
      name: 'a JSON array (batch)',
      raw: '[{"jsonrpc":"2.0","id":1,"method":"system.health"}]\n',
      code: -32600,
      id: null,
    },
    { name: 'a bare number', raw: '42\n', code: -32600, id: null },
    {
      name: 'unknown agent',
      raw: '{"jsonrpc":"2.0","id":14,"method":"agent.status","params":{"agent_id":"nope"}}\n',
      code: -32001,
      id: 14,
      dataCode: 'AAOS_ERR_AGENT_NOT_FOUND',
    },
    {
      name: 'unknown run',
      raw: '{"jsonrpc":"2.0","id":15,"method":"run.cancel","params":{"run_id":"nope"}}\n',
      code: -32001,
      id: 15,
      dataCode: 'AAOS_ERR_RUN_NOT_FOUND',
    },
    {
      name: 'bad manifest',
      raw: '{"jsonrpc":"2.0","id":16,"method":"agent.spawn","params":{"manifest":"name: [oops"}}\n',
      code: -32003,
      id: 16,
      dataCode: 'AAOS_ERR_MANIFEST_INVALID',
    },
    {
      name: 'unknown approval',
      raw: '{"jsonrpc":"2.0","id":17,"method":"approval.respond","params":{"id":"x","decision":"approve"}}\n',
      code: -32001,
      id: 17,
      dataCode: 'AAOS_ERR_APPROVAL_NOT_FOUND',
    },
  ];

  it.each(table)('$name → $code, and the daemon keeps answering', async ({ raw, code, id, message, dataCode }) => {
    const { msg, client } = await answerTo(raw);
    client.close();
    expect(msg['jsonrpc']).toBe('2.0');
    expect(msg.error?.code).toBe(code);
    if (id !== undefined) expect(msg['id']).toBe(id);
    if (message) expect(msg.error?.message).toMatch(message);
    if (dataCode) expect(msg.error?.data?.['code']).toBe(dataCode);
    expect((await health())['status']).toBe('ok');
  });

  it('zod issue paths travel in error.data', async () => {
    const { msg, client } = await answerTo(
      '{"jsonrpc":"2.0","id":1,"method":"tool.invoke","params":{"agent_id":"a","tool":"echo","input":[1]}}\n',
    );
    client.close();
    expect(msg.error?.code).toBe(-32602);
    expect(msg.error?.data?.['issues']).toEqual([expect.objectContaining({ path: 'input' })]);
  });

  it('a notification (no id) gets no response; the next request does', async () => {
    const client = await RawClient.open(daemon.socket);
    client.write('{"jsonrpc":"2.0","method":"system.health"}\n');
    const id = client.send('agent.list');
    await client.response(id);
    expect(client.lines).toHaveLength(1);
    client.close();
  });

  it('refuses a 2 MiB line with an error and closes that connection', async () => {
    const client = await RawClient.open(daemon.socket);
    client.write(Buffer.alloc(2 * 1024 * 1024, 0x78));
    client.write('\n');
    const msg = await client.waitFor<Msg>(() => true, 'the frame error');
    expect(msg.error?.code).toBe(-32600);
    expect(msg.error?.data?.['code']).toBe('AAOS_ERR_FRAME_TOO_LARGE');
    expect(msg['id']).toBeNull();
    await client.waitClosed();
    expect((await health())['status']).toBe('ok');
  });

  it('answers many requests on one connection, matched by id', async () => {
    const client = await RawClient.open(daemon.socket);
    const ids = Array.from({ length: 20 }, (_, i) => client.send(i % 2 ? 'agent.list' : 'system.health'));
    const answers = await Promise.all(ids.map((id) => client.response(id)));
    expect(answers.every((a) => 'result' in a)).toBe(true);
    client.close();
  });

  it('a client dropping mid-stream costs nothing: its run still completes', async () => {
    const dropper = await RawClient.open(daemon.socket);
    const id = dropper.send('agent.submit_streaming', { goal: 'Report on the pilot; nobody is watching.' });
    const res = await dropper.response<{ result: { run_id: string } }>(id);
    await dropper.waitFor((m) => m['kind'] === 'event', 'a first event');
    dropper.close();

    const watcher = await RawClient.open(daemon.socket);
    const logs = watcher.send('agent.logs_streaming', { run_id: res.result.run_id, follow: true });
    const { events, end } = await streamToEnd(watcher, logs);
    expect(end).toMatchObject({ run_id: res.result.run_id, status: 'completed' });
    // replayed history from before this client connected, with no duplicates
    expect(events[0]?.['type']).toBe('RunSubmitted');
    const ids = events.map((e) => e['id']);
    expect(new Set(ids).size).toBe(ids.length);
    watcher.close();
  });

  it('serves 200 clients connecting at once', async () => {
    const clients = await Promise.all(Array.from({ length: 200 }, () => RawClient.open(daemon.socket)));
    const results = await Promise.all(clients.map((c) => c.call<{ status: string }>('system.health')));
    expect(results.every((r) => r.status === 'ok')).toBe(true);
    for (const c of clients) c.close();
    const after = await health();
    expect(after['status']).toBe('ok');
  });
});
