import { linkSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors/index.js';
import { ScriptedProvider } from '../../src/providers/scripted.js';
import type { ModelRequest, ScriptContext } from '../../src/providers/model.js';

/**
 * A `scripted:` file is authorised by its path when the child is spawned, and the scripted
 * provider reads it again whenever it changes. A local process that can rename entries in
 * the grant swaps the file (or a directory above it) for a link to an outside script in
 * between. Every later read must refuse rather than follow.
 */
let grant: string;
let outside: string;
const SECRET = 'OUTSIDE-SCRIPT-9c1e';

beforeEach(() => {
  grant = mkdtempSync(join(tmpdir(), 'aaos-grant-'));
  outside = mkdtempSync(join(tmpdir(), 'aaos-outside-'));
  mkdirSync(join(grant, 'scripts'));
  mkdirSync(join(outside, 'scripts'));
  writeFileSync(join(grant, 'scripts', 'child.yaml'), '- text: inside\n');
  writeFileSync(join(outside, 'scripts', 'child.yaml'), `- text: ${SECRET}\n`);
});
afterEach(() => {
  rmSync(grant, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

const request = (file: string): ModelRequest => ({ model: file, agent_id: 'a', system: '', messages: [{ role: 'user', content: 'go' }], tools: [], max_tokens: 100 });
const ctx: ScriptContext = { agent_id: 'a', agent_name: 'child' };

async function answer(p: ScriptedProvider, file: string): Promise<string> {
  p.reset('a');
  const res = await p.complete(request(file), ctx);
  return res.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
}

describe('a scripted file swapped after its check is never followed', () => {
  const file = (): string => join(grant, 'scripts', 'child.yaml');

  it('the file swapped for a symbolic link', async () => {
    const p = new ScriptedProvider({ freshMs: 0 });
    expect(await answer(p, file())).toBe('inside');
    rmSync(file());
    symlinkSync(join(outside, 'scripts', 'child.yaml'), file());
    await expect(answer(p, file())).rejects.toMatchObject({ code: ErrorCode.SCRIPT_INVALID, message: expect.stringContaining('symbolic link') });
  });

  it('a directory above it swapped for a symbolic link', async () => {
    const p = new ScriptedProvider({ freshMs: 0 });
    expect(await answer(p, file())).toBe('inside');
    renameSync(join(grant, 'scripts'), join(grant, 'moved'));
    symlinkSync(join(outside, 'scripts'), join(grant, 'scripts'));
    const err = await answer(p, file()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.SCRIPT_INVALID });
    expect(String((err as Error).message)).not.toContain(SECRET);
  });

  it('the file swapped for a hard link to an outside file', async () => {
    const p = new ScriptedProvider({ freshMs: 0 });
    expect(await answer(p, file())).toBe('inside');
    rmSync(file());
    linkSync(join(outside, 'scripts', 'child.yaml'), file());
    await expect(answer(p, file())).rejects.toMatchObject({ code: ErrorCode.SCRIPT_INVALID, message: expect.stringContaining('hard links') });
  });

  it('a plain rewrite inside the grant is still picked up (control)', async () => {
    const p = new ScriptedProvider({ freshMs: 0 });
    expect(await answer(p, file())).toBe('inside');
    writeFileSync(file(), '- text: rewritten, longer\n');
    expect(await answer(p, file())).toBe('rewritten, longer');
  });
});
