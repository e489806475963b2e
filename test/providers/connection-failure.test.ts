import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { AuditInput } from '../../src/audit/event.js';
import { ErrorCode, isAaosError } from '../../src/errors/index.js';
import { ModelGateway } from '../../src/providers/gateway.js';
import { displayUrl } from '../../src/providers/provider-errors.js';
import { runAgentd } from '../support/run-agentd.js';

/** A loopback port that was just free: nothing listens on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

const KEY = 'sk-test-secret-key-0123456789abcdef';
const agent = { id: 'a-1', name: 'caller' };
const ctx = { agent_id: 'a-1', agent_name: 'caller' };

describe('a provider endpoint that refuses the connection', () => {
  it('the real SDKs: AAOS_ERR_MODEL_UNAVAILABLE naming the URL (no credentials, no query) and the cause, retried', async () => {
    const port = await closedPort();
    for (const [model, env] of [
      ['gpt-4o-mini', { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1?api-key=${KEY}` }],
      ['claude-sonnet-4-5', { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: `http://127.0.0.1:${port}` }],
    ] as const) {
      const events: AuditInput[] = [];
      const gw = new ModelGateway({
        env,
        emit: (e) => events.push(e),
        retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 },
      });
      const err: unknown = await gw
        .complete(
          agent,
          model,
          { system: 's', messages: [{ role: 'user', content: 'hi' }], tools: [], max_tokens: 16 },
          ctx,
        )
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(isAaosError(err, ErrorCode.MODEL_UNAVAILABLE), String(err)).toBe(true);
      const message = (err as Error).message;
      const url = model.startsWith('gpt') ? `http://127.0.0.1:${port}/v1` : `http://127.0.0.1:${port}`;
      expect(message).toContain(`no connection connecting to ${url} (ECONNREFUSED)`);
      expect(JSON.stringify({ message, details: (err as { details?: unknown }).details, events })).not.toContain(KEY);
      expect(events.filter((e) => e.type === 'InferenceRetried')).toHaveLength(1);
    }
  });

  it('a base URL with credentials: still UNAVAILABLE, and the password is never repeated', async () => {
    const port = await closedPort();
    const gw = new ModelGateway({
      env: { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: `http://user:hunter2@127.0.0.1:${port}/v1` },
      emit: () => {},
      retry: { maxAttempts: 1 },
    });
    const err: unknown = await gw
      .complete(
        agent,
        'gpt-4o-mini',
        { system: 's', messages: [{ role: 'user', content: 'hi' }], tools: [], max_tokens: 16 },
        ctx,
      )
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(isAaosError(err, ErrorCode.MODEL_UNAVAILABLE), String(err)).toBe(true);
    expect((err as Error).message).toContain(`connecting to http://127.0.0.1:${port}/v1`);
    expect(
      JSON.stringify({ message: (err as Error).message, details: (err as { details?: unknown }).details }),
    ).not.toContain('hunter2');
  });

  it('displayUrl leaves out what may carry a secret', () => {
    expect(displayUrl('https://u:p@example.com/v1/?key=abc#x')).toBe('https://example.com/v1');
    expect(displayUrl('not a url')).toBe('(an invalid URL)');
  });

  it('agentd run --stdin: the goal fails with the URL in its error, exit 1, and the key appears nowhere', async () => {
    const port = await closedPort();
    const dataDir = mkdtempSync(join(tmpdir(), 'aaos-conn-'));
    onTestFinished(() => rmSync(dataDir, { recursive: true, force: true }));
    const res = await runAgentd(['run', '--stdin', '--json', '--data-dir', dataDir], {
      input: 'a goal\n',
      env: {
        AAOS_SOCKET: '',
        AAOS_MODEL_OVERRIDE: 'gpt-4o-mini',
        OPENAI_API_KEY: KEY,
        OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1`,
      },
    });
    expect(res.code, res.stderr).toBe(1);
    const end = res.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; error?: { code: string; message: string } })
      .find((f) => f.kind === 'end')!;
    expect(end.error?.code).toBe('AAOS_ERR_MODEL_UNAVAILABLE');
    expect(end.error?.message).toContain(`connecting to http://127.0.0.1:${port}/v1 (ECONNREFUSED)`);
    expect(res.stdout + res.stderr).not.toContain(KEY);
  }, 120_000);
});
