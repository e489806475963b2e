import { mkdirSync, writeFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { z } from 'zod';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors/index.js';
import { createFileReadTool } from '../../../src/tools/fs/file-read.js';
import { createFileWriteTool } from '../../../src/tools/fs/file-write.js';
import { defineTool } from '../../../src/tools/tool.js';
import { codeOf, makeKit, tempDir, type Kit } from './fs-test-kit.js';

const fileRead = createFileReadTool();
const fileWrite = createFileWriteTool();
let tmp: ReturnType<typeof tempDir>;
let kit: Kit;

beforeEach(() => {
  tmp = tempDir();
  mkdirSync(`${tmp.dir}/data`);
  writeFileSync(`${tmp.dir}/data/f.txt`, 'hello\n');
  kit = makeKit();
});

afterEach(() => tmp.cleanup());

describe('max_invocations through the tool path', () => {
  it('10 concurrent calls with max 5: exactly 5 succeed, 5 are EXHAUSTED, 5 denials', async () => {
    const id = kit.grant({ kind: 'file_read', glob: `${tmp.dir}/data/*` }, { max_invocations: 5 });
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () => kit.call(fileRead, { path: `${tmp.dir}/data/f.txt` })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected.map((r) => (r.reason as { code: string }).code)).toEqual(
      Array(5).fill(ErrorCode.CAPABILITY_EXHAUSTED),
    );
    expect(kit.denials()).toHaveLength(5);
    expect(kit.table.list(kit.agent.id).find((t) => t.id === id)?.invocation_count).toBe(5);
  });

  it('stays exact when calls interleave on I/O before and after authorizing', async () => {
    kit.grant({ kind: 'tool', name: 'slow' }, { max_invocations: 3 });
    let ran = 0;
    const slow = defineTool({
      name: 'slow',
      description: 'awaits real I/O around its capability check',
      input: z.object({}),
      async run(_input, ctx) {
        await stat(tmp.dir);
        ctx.authorize({ kind: 'tool', name: 'slow' });
        await stat(tmp.dir);
        ran += 1;
        return ran;
      },
    });
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => kit.call(slow, {})));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    expect(ran).toBe(3);
    expect(kit.denials()).toHaveLength(7);
  });

  it('charges on attempt: a call that fails after authorization still uses its slot', async () => {
    kit.grant({ kind: 'file_read', glob: `${tmp.dir}/data/*` }, { max_invocations: 2 });
    expect(await codeOf(kit.call(fileRead, { path: `${tmp.dir}/data/missing.txt` }))).toBe(ErrorCode.PATH_NOT_FOUND);
    expect(await codeOf(kit.call(fileRead, { path: `${tmp.dir}/data` }))).toBe(ErrorCode.PATH_INVALID);
    expect(await codeOf(kit.call(fileRead, { path: `${tmp.dir}/data/f.txt` }))).toBe(ErrorCode.CAPABILITY_EXHAUSTED);
  });

  it('a revoked token denies the next call', async () => {
    const id = kit.grant({ kind: 'file_write', glob: `${tmp.dir}/data/*` });
    await kit.call(fileWrite, { path: `${tmp.dir}/data/g.txt`, content: '1' });
    expect(kit.table.revoke(id, 'test')).toBe(true);
    expect(await codeOf(kit.call(fileWrite, { path: `${tmp.dir}/data/g.txt`, content: '2' }))).toBe(
      ErrorCode.CAPABILITY_REVOKED,
    );
    expect(kit.table.revoke(id, 'test')).toBe(false);
    expect(kit.events.filter((e) => e.type === 'CapabilityRevoked')).toHaveLength(1);
    expect(kit.denials()).toHaveLength(1);
  });
});
