import { mkdirSync, writeFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors/index.js';
import { createFsTools } from '../../src/tools/fs/index.js';
import { closeIoPool } from '../../src/tools/fs/io-pool.js';
import { COMMAND_AGENT, commandManifest, testSupervisor, waitFor } from '../support/kernel.js';
import { tempDir } from '../tools/fs/fs-test-kit.js';

/**
 * A hostile model asks for a search whose regular expression backtracks forever. It must be
 * stopped at the limit (its pool thread terminated), even while the supervisor collects
 * garbage hard, and other agents' reads and searches must not wait behind it.
 */

setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;

const CATASTROPHIC = '^(a+)+$';

type Settled = { done: false } | { done: true; response: string; code: string | undefined };

function track(p: Promise<{ response: string; error: { code?: string } | null }>): {
  state(): Settled;
  promise: Promise<Settled>;
} {
  let state: Settled = { done: false };
  const promise = p.then((out) => (state = { done: true, response: out.response, code: out.error?.code }));
  return { state: () => state, promise };
}

describe('file_search is bounded and fair, against real workers', () => {
  let tmp: ReturnType<typeof tempDir>;
  let t: ReturnType<typeof testSupervisor>;
  beforeAll(() => {
    tmp = tempDir('aaos-search-');
    mkdirSync(`${tmp.dir}/trap`);
    // 2^40 ways to split the a's before the final b fails the match: never finishes
    writeFileSync(`${tmp.dir}/trap/evil.txt`, `${'a'.repeat(40)}b\n`);
    mkdirSync(`${tmp.dir}/docs`);
    for (let i = 0; i < 8; i += 1) writeFileSync(`${tmp.dir}/docs/f${i}.txt`, `line ${i}\nneedle ${i}\n`);
  });
  afterEach(async () => {
    await t?.close();
    await closeIoPool();
  });
  afterAll(() => tmp.cleanup());

  const search = (dir: string, pattern: string): string =>
    `tool file_search ${JSON.stringify({ path: `${tmp.dir}/${dir}`, pattern })}`;
  const readAll = (): string =>
    `tool file_read_many ${JSON.stringify({ paths: Array.from({ length: 8 }, (_, i) => `${tmp.dir}/docs/f${i}.txt`) })}`;

  async function agents(timeoutMs: number) {
    t = testSupervisor({ tools: createFsTools({ search: { timeoutMs, threads: 2 } }) });
    const caps = ['tool: file_search', 'tool: file_read_many', `file_read: ${tmp.dir}/*`];
    const hostile = await t.sup.spawn(commandManifest('hostile', caps), { module: COMMAND_AGENT, concurrency: 2 });
    const honest = await t.sup.spawn(commandManifest('honest', caps), { module: COMMAND_AGENT });
    const invoked = (): number =>
      t.sup.audit.recent(
        (e) => e.type === 'ToolInvoked' && e.agent_id === hostile.id && (e as { tool?: string }).tool === 'file_search',
      ).length;
    return { sup: t.sup, hostile, honest, invoked };
  }

  it("another agent reads and searches while one agent's runaway searches hold their thread", async () => {
    // a limit far beyond the test: the runaway searches are certainly still running below
    const { sup, hostile, honest, invoked } = await agents(600_000);
    // two runaway searches from one agent: one runs, the other waits in that agent's lane
    const evil1 = track(sup.run(hostile.id, search('trap', CATASTROPHIC), { runId: 'evil-1' }));
    const evil2 = track(sup.run(hostile.id, search('trap', CATASTROPHIC), { runId: 'evil-2' }));
    await waitFor(() => invoked() === 2, 20_000, 'both hostile searches to start');

    const read = await sup.run(honest.id, readAll());
    expect(read.error).toBeNull();
    expect((JSON.parse(read.response) as { count: number }).count).toBe(8);
    const found = await sup.run(honest.id, search('docs', 'needle'));
    expect(found.error).toBeNull();
    expect((JSON.parse(found.response) as { matches: unknown[] }).matches).toHaveLength(8);
    expect(evil1.state().done).toBe(false);
    expect(evil2.state().done).toBe(false);

    // cancelling terminates the thread of the running one and unqueues the waiting one
    sup.cancelRun(hostile.id, 'evil-1');
    sup.cancelRun(hostile.id, 'evil-2');
    for (const outcome of [await evil1.promise, await evil2.promise])
      expect(outcome).toMatchObject({ done: true, code: ErrorCode.CANCELLED });
    const again = await sup.run(hostile.id, search('docs', 'needle 3'));
    expect(again.error).toBeNull();
    expect((JSON.parse(again.response) as { matches: unknown[] }).matches).toHaveLength(1);
  }, 120_000);

  it("a catastrophic search is cut at its limit under GC pressure, while another agent's read completes", async () => {
    const limit = 3000;
    const { sup, hostile, honest, invoked } = await agents(limit);
    const started = Date.now();
    const evil1 = track(sup.run(hostile.id, search('trap', CATASTROPHIC)));
    const evil2 = track(sup.run(hostile.id, search('trap', CATASTROPHIC)));
    await waitFor(() => invoked() === 2, 20_000, 'both hostile searches to start');
    // the supervisor collects garbage all the while (the old composite signal died this way)
    const pressure = setInterval(() => {
      const junk: unknown[] = [];
      for (let i = 0; i < 20_000; i += 1) junk.push({ i, s: `x${i}` });
      gc();
    }, 200);
    try {
      const read = await sup.run(honest.id, readAll());
      expect(read.error).toBeNull();
      for (const outcome of [await evil1.promise, await evil2.promise]) {
        expect(outcome).toMatchObject({ done: true, code: ErrorCode.TOOL_TIMEOUT });
        if (outcome.done) expect(outcome.response).toContain(`stopped after ${limit} ms`);
      }
      // it really waited for the limit (wall time, waiting in the agent's lane included)
      expect(Date.now() - started).toBeGreaterThanOrEqual(limit);
    } finally {
      clearInterval(pressure);
    }
    const timeouts = sup.audit.recent(
      (e) => e.type === 'ToolResult' && (e as { error_code?: string }).error_code === ErrorCode.TOOL_TIMEOUT,
    );
    expect(timeouts).toHaveLength(2);
  }, 120_000);
});
