import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors/index.js';
import { createFileReadManyTool } from '../../../src/tools/fs/file-read-many.js';
import { closeIoPool } from '../../../src/tools/fs/io-pool.js';
import { MAX_FILE_BYTES } from '../../../src/tools/fs/limits.js';
import { codeOf, makeKit, tempDir, type Kit } from './fs-test-kit.js';

// the reads run on a piscina pool that loads dist/: build first (`npx tsc -p .`)
const readMany = createFileReadManyTool();
let tmp: ReturnType<typeof tempDir>;
let kit: Kit;
let data: string;

beforeEach(() => {
  tmp = tempDir();
  data = `${tmp.dir}/data`;
  mkdirSync(data);
  writeFileSync(`${data}/a.txt`, 'alpha\n');
  writeFileSync(`${data}/b.txt`, 'beta\nline 2\n');
  writeFileSync(`${data}/big.txt`, 'x'.repeat(MAX_FILE_BYTES + 1));
  writeFileSync(`${tmp.dir}/secret.txt`, 'secret');
  symlinkSync(`${tmp.dir}/secret.txt`, `${data}/link.txt`);
  kit = makeKit();
  kit.grant({ kind: 'file_read', glob: `${data}/*` });
});

afterEach(() => tmp.cleanup());
afterAll(() => closeIoPool());

describe('file_read_many', () => {
  it('returns a mix of results and per-file errors in request order', async () => {
    const result = (await kit.call(readMany, {
      paths: [
        `${data}/a.txt`,
        `${tmp.dir}/secret.txt`,
        `${data}/missing.txt`,
        `${data}/b.txt`,
        `${data}/../secret.txt`,
        `${data}/link.txt`,
        `${data}/big.txt`,
        'relative.txt',
        `${data}/a.txt`,
      ],
    })) as { files: Record<string, unknown>[]; count: number };
    expect(result.count).toBe(9);
    expect(result.files[0]).toEqual({ path: `${data}/a.txt`, content: 'alpha\n', size_bytes: 6, total_lines: 1 });
    expect(result.files[1]).toMatchObject({
      path: `${tmp.dir}/secret.txt`,
      error: { code: ErrorCode.CAPABILITY_DENIED },
    });
    expect(result.files[2]).toMatchObject({ path: `${data}/missing.txt`, error: { code: ErrorCode.PATH_NOT_FOUND } });
    expect(result.files[3]).toEqual({
      path: `${data}/b.txt`,
      content: 'beta\nline 2\n',
      size_bytes: 12,
      total_lines: 2,
    });
    expect(result.files[4]).toMatchObject({ error: { code: ErrorCode.CAPABILITY_DENIED } });
    expect(result.files[5]).toMatchObject({ path: `${data}/link.txt`, error: { code: ErrorCode.PATH_SYMLINK } });
    expect(result.files[6]).toMatchObject({ path: `${data}/big.txt`, error: { code: ErrorCode.FILE_TOO_LARGE } });
    expect(result.files[7]).toMatchObject({ path: 'relative.txt', error: { code: ErrorCode.PATH_INVALID } });
    expect(result.files[8]).toMatchObject({ content: 'alpha\n' });
    expect(JSON.stringify(result)).not.toContain('secret"');
    // one denial per denied path, each naming the tool
    expect(kit.denials()).toHaveLength(2);
    expect(kit.denials().every((d) => d.type === 'CapabilityDenied' && d.tool === 'file_read_many')).toBe(true);
  });

  it('validates the path count (1..16)', async () => {
    expect(await codeOf(kit.call(readMany, { paths: [] }))).toBe(ErrorCode.TOOL_INPUT_INVALID);
    expect(await codeOf(kit.call(readMany, { paths: Array(17).fill(`${data}/a.txt`) }))).toBe(
      ErrorCode.TOOL_INPUT_INVALID,
    );
    const sixteen = (await kit.call(readMany, { paths: Array(16).fill(`${data}/a.txt`) })) as { count: number };
    expect(sixteen.count).toBe(16);
  });

  it('charges each path against max_invocations', async () => {
    const limited = makeKit({ id: 'l', name: 'limited' });
    limited.grant({ kind: 'file_read', glob: `${data}/*` }, { max_invocations: 2 });
    const result = (await limited.call(readMany, { paths: [`${data}/a.txt`, `${data}/b.txt`, `${data}/a.txt`] })) as {
      files: Record<string, unknown>[];
    };
    expect(result.files.map((f) => ('error' in f ? (f.error as { code: string }).code : 'ok'))).toEqual([
      'ok',
      'ok',
      ErrorCode.CAPABILITY_EXHAUSTED,
    ]);
  });
});

describe('readFileTask (the pool side)', () => {
  it('re-verifies identity: a file replaced after the supervisor check is refused', async () => {
    const { readFileTask } = await import('../../../src/tools/fs/read-task.js');
    const { resolveSafePath } = await import('../../../src/tools/fs/safe-path.js');
    const { renameSync } = await import('node:fs');
    const checked = await resolveSafePath(`${data}/a.txt`);
    if (checked.leaf === undefined) throw new Error('a.txt missing');
    renameSync(`${data}/a.txt`, `${data}/a-old.txt`);
    writeFileSync(`${data}/a.txt`, 'swapped');
    const result = await readFileTask({
      path: checked.path,
      identity: checked.leaf.identity,
      maxBytes: MAX_FILE_BYTES,
    });
    expect(result).toMatchObject({ ok: false, error: { code: ErrorCode.PATH_SYMLINK } });
    renameSync(`${data}/a.txt`, `${data}/a-new.txt`);
    symlinkSync(`${tmp.dir}/secret.txt`, `${data}/a.txt`);
    const viaLink = await readFileTask({
      path: checked.path,
      identity: checked.leaf.identity,
      maxBytes: MAX_FILE_BYTES,
    });
    expect(viaLink).toMatchObject({ ok: false, error: { code: ErrorCode.PATH_SYMLINK } });
  });
});
