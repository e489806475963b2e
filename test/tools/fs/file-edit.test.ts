import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors/index.js';
import { createFileEditTool } from '../../../src/tools/fs/file-edit.js';
import { MAX_FILE_BYTES } from '../../../src/tools/fs/limits.js';
import { codeOf, makeKit, tempDir, type Kit } from './fs-test-kit.js';

const fileEdit = createFileEditTool();
let tmp: ReturnType<typeof tempDir>;
let kit: Kit;
let file: string;

beforeEach(() => {
  tmp = tempDir();
  mkdirSync(`${tmp.dir}/src`);
  file = `${tmp.dir}/src/main.ts`;
  writeFileSync(file, 'const a = 1;\nconst b = 2;\nconst a2 = 1;\n');
  kit = makeKit();
});

afterEach(() => tmp.cleanup());

function grantBoth(): void {
  kit.grant({ kind: 'file_read', glob: `${tmp.dir}/src/*` });
  kit.grant({ kind: 'file_write', glob: `${tmp.dir}/src/*` });
}

describe('file_edit', () => {
  it('replaces a unique match', async () => {
    grantBoth();
    expect(await kit.call(fileEdit, { path: file, old_string: 'const b = 2;', new_string: 'const b = $&3;' })).toEqual({
      path: file,
      replacements: 1,
      bytes_before: 40,
      bytes_after: 42,
    });
    expect(readFileSync(file, 'utf8')).toBe('const a = 1;\nconst b = $&3;\nconst a2 = 1;\n');
    expect(readdirSync(`${tmp.dir}/src`)).toEqual(['main.ts']);
  });

  it('refuses an ambiguous match unless replace_all', async () => {
    grantBoth();
    const err = kit.call(fileEdit, { path: file, old_string: ' = 1;', new_string: ' = 9;' });
    expect(await codeOf(err)).toBe(ErrorCode.EDIT_AMBIGUOUS);
    expect(readFileSync(file, 'utf8')).toBe('const a = 1;\nconst b = 2;\nconst a2 = 1;\n');
    expect(
      await kit.call(fileEdit, { path: file, old_string: ' = 1;', new_string: ' = 9;', replace_all: true }),
    ).toMatchObject({ replacements: 2 });
    expect(readFileSync(file, 'utf8')).toBe('const a = 9;\nconst b = 2;\nconst a2 = 9;\n');
  });

  it('reports no match and leaves the file alone', async () => {
    grantBoth();
    expect(await codeOf(kit.call(fileEdit, { path: file, old_string: 'nothing like this', new_string: 'x' }))).toBe(
      ErrorCode.EDIT_NO_MATCH,
    );
    expect(await codeOf(kit.call(fileEdit, { path: file, old_string: '', new_string: 'x' }))).toBe(
      ErrorCode.TOOL_INPUT_INVALID,
    );
    expect(await codeOf(kit.call(fileEdit, { path: `${tmp.dir}/src/none.ts`, old_string: 'a', new_string: 'x' }))).toBe(
      ErrorCode.PATH_NOT_FOUND,
    );
  });

  it('needs both file_read and file_write', async () => {
    kit.grant({ kind: 'file_read', glob: `${tmp.dir}/src/*` });
    expect(await codeOf(kit.call(fileEdit, { path: file, old_string: 'const b', new_string: 'let b' }))).toBe(
      ErrorCode.CAPABILITY_DENIED,
    );
    const writer = makeKit({ id: 'w', name: 'writer' });
    writer.grant({ kind: 'file_write', glob: `${tmp.dir}/src/*` });
    expect(await codeOf(writer.call(fileEdit, { path: file, old_string: 'const b', new_string: 'let b' }))).toBe(
      ErrorCode.CAPABILITY_DENIED,
    );
    expect(readFileSync(file, 'utf8')).toContain('const b');
    expect(kit.denials()).toHaveLength(1);
    expect(kit.denials()[0]).toMatchObject({ capability: `file_write: ${file}`, tool: 'file_edit' });
  });

  it('caps the edited file at 1 MiB', async () => {
    grantBoth();
    expect(
      await codeOf(
        kit.call(fileEdit, { path: file, old_string: 'const b = 2;', new_string: 'x'.repeat(MAX_FILE_BYTES) }),
      ),
    ).toBe(ErrorCode.FILE_TOO_LARGE);
    expect(readFileSync(file, 'utf8')).toContain('const b = 2;');
  });
});
