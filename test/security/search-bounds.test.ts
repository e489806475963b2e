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

// long enough that the honest agent never needs it, even on a loaded machine
const TIMEOUT_MS = 8000;
const CATASTROPHIC = '^(a+)+$';

type Settled = { done: false } | { done: true; response: string; code: string | undefined };

function track(p: Promise<{ response: string; error: { code?: string } | null }>): { state(): Settled; promise: Promise<Settled> } {
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

  it('a catastrophic search is cut at its limit under GC pressure while another agent reads and searches', async () => {
    t = testSupervisor({ tools: createFsTools({ search: { timeoutMs: TIMEOUT_MS, threads: 2 } }) });
    const caps = ['tool: file_search', 'tool: file_read_many', `file_read: ${tmp.dir}/*`];
    const hostile = await t.sup.spawn(commandManifest('hostile', caps), { module: COMMAND_AGENT, concurrency: 2 });
    const honest = await t.sup.spawn(commandManifest('honest', caps), { module: COMMAND_AGENT });
    const invoked = (agent: string): number =>
      t.sup.audit.recent((e) => e.type === 'ToolInvoked' && e.agent_id === agent && (e as { tool?: string }).tool === 'file_search').length;

    // two runaway searches from one agent: one runs, the other waits in that agent's lane
    const started = Date.now();
    const evil1 = track(t.sup.run(hostile.id, `tool file_search ${JSON.stringify({ path: `${tmp.dir}/trap`, pattern: CATASTROPHIC })}`));
    const evil2 = track(t.sup.run(hostile.id, `tool file_search ${JSON.stringify({ path: `${tmp.dir}/trap`, pattern: CATASTROPHIC })}`));
    await waitFor(() => invoked(hostile.id) === 2, 20_000, 'both hostile searches to start');
    // the supervisor collects garbage all the while (the old composite signal died this way)
    const pressure = setInterval(() => {
      const junk: unknown[] = [];
      for (let i = 0; i < 20_000; i += 1) junk.push({ i, s: `x${i}` });
      gc();
    }, 50);
    try {
      // another agent's batched read and its own search complete while the runaway ones still run
      const paths = Array.from({ length: 8 }, (_, i) => `${tmp.dir}/docs/f${i}.txt`);
      const read = await t.sup.run(honest.id, `tool file_read_many ${JSON.stringify({ paths })}`);
      expect(read.error).toBeNull();
      expect((JSON.parse(read.response) as { count: number }).count).toBe(8);
      const found = await t.sup.run(honest.id, `tool file_search ${JSON.stringify({ path: `${tmp.dir}/docs`, pattern: 'needle' })}`);
      expect(found.error).toBeNull();
      expect((JSON.parse(found.response) as { matches: unknown[] }).matches).toHaveLength(8);
      expect(evil1.state().done, 'the honest agent had to wait for the runaway search').toBe(false);

      const first = await evil1.promise;
      const second = await evil2.promise;
      for (const outcome of [first, second]) {
        expect(outcome).toMatchObject({ done: true, code: ErrorCode.TOOL_TIMEOUT });
        if (outcome.done) expect(outcome.response).toContain(`stopped after ${TIMEOUT_MS} ms`);
      }
      // it really waited for the limit, not less (the bound is wall time, waiting included)
      expect(Date.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS);
    } finally {
      clearInterval(pressure);
    }

    // the terminated threads are replaced: searching still works afterwards
    const again = await t.sup.run(hostile.id, `tool file_search ${JSON.stringify({ path: `${tmp.dir}/docs`, pattern: 'needle 3' })}`);
    expect(again.error).toBeNull();
    const failures = t.sup.audit.recent((e) => e.type === 'ToolResult' && (e as { error_code?: string }).error_code === ErrorCode.TOOL_TIMEOUT);
    expect(failures).toHaveLength(2);
  }, 120_000);
});
