import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
  linkSync,
} from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFsTools } from '../../src/tools/fs/index.js';
import { closeIoPool } from '../../src/tools/fs/io-pool.js';
import { COMMAND_AGENT, commandManifest, testSupervisor } from '../support/kernel.js';
import { tempDir } from '../tools/fs/fs-test-kit.js';

/**
 * The attacker is a local process that may rename entries inside the write grant: it swaps
 * directories of the grant with symbolic links to a directory outside it, with
 * renameat2(RENAME_EXCHANGE) in a tight loop, while an agent writes, appends and edits
 * through the real tool dispatch path (and a real worker). Nothing outside may change.
 */

const RENAMER = fileURLToPath(new URL('./exchange-renamer.py', import.meta.url));
const DIRS = 4;
const MIN_CALLS = 1000;
const MIN_RACE_MS = 2000;
const IN_FLIGHT = 8;

type Snapshot = Map<string, string>;

/** Every entry under `root`, links not followed: kind, mode, link count and a content hash. */
function snapshot(root: string): Snapshot {
  const out: Snapshot = new Map();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = `${dir}/${name}`;
      const st = lstatSync(path);
      if (st.isSymbolicLink()) out.set(path, `link ${readlinkSync(path)}`);
      else if (st.isDirectory()) {
        out.set(path, `dir ${st.mode.toString(8)}`);
        walk(path);
      } else {
        const hash = createHash('sha256').update(readFileSync(path)).digest('hex');
        out.set(path, `file ${st.mode.toString(8)} ${st.nlink} ${st.size} ${hash} ${st.mtimeMs}`);
      }
    }
  };
  walk(root);
  return out;
}

/** Content of every regular file under `root` (links not followed), concatenated. */
function allText(root: string): string {
  const parts: string[] = [];
  for (const [path, what] of snapshot(root)) if (what.startsWith('file ')) parts.push(readFileSync(path, 'utf8'));
  return parts.join('\n');
}

function startRenamer(pairs: string[]): Promise<{ child: ChildProcess; stop(): Promise<number> }> {
  return new Promise((resolveStart, rejectStart) => {
    const child = spawn('python3', [RENAMER, ...pairs], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let ready = false;
    const exited = new Promise<number>((res) => child.on('exit', (code) => res(code ?? -1)));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (!ready && stdout.startsWith('ready\n')) {
        ready = true;
        resolveStart({
          child,
          async stop() {
            child.kill('SIGTERM');
            const code = await exited;
            const swaps = /swaps (\d+)/.exec(stdout);
            if (code !== 0 || swaps === null) throw new Error(`the renamer failed (exit ${code}): ${stderr}${stdout}`);
            return Number(swaps[1]);
          },
        });
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', (err) =>
      rejectStart(new Error(`cannot start the renamer (python3 with ctypes): ${err.message}`)),
    );
    void exited.then((code) => {
      if (!ready) rejectStart(new Error(`the renamer could not run (exit ${code}): ${stderr}`));
    });
  });
}

describe('file writes against a racing renamer', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeAll(() => {
    tmp = tempDir('aaos-race-');
    // fail loudly, never skip: this test is the only proof of the property
    const probe = spawnSync('python3', ['-c', 'import ctypes; ctypes.CDLL(None).renameat2'], { encoding: 'utf8' });
    if (probe.status !== 0)
      throw new Error(
        `python3 with ctypes and libc renameat2 is required for this test: ${probe.stderr || probe.error?.message}`,
      );
  });
  afterAll(async () => {
    await closeIoPool();
    tmp.cleanup();
  });

  it('creates, changes and appends nothing outside the grant, and every success lands inside it', async () => {
    const grant = `${tmp.dir}/grant`;
    const outside = `${tmp.dir}/outside`;
    mkdirSync(grant);
    mkdirSync(outside);
    // the outside tree holds the very names the writers use, so a write that escapes shows
    writeFileSync(`${outside}/log.txt`, 'outside log\n');
    writeFileSync(`${outside}/f.txt`, 'outside f\n');
    writeFileSync(`${outside}/secret.txt`, 'outside secret\n');
    mkdirSync(`${outside}/sub`);
    writeFileSync(`${outside}/sub/f.txt`, 'outside sub f\n');
    const editFiles = 200;
    for (let e = 0; e < editFiles; e += 1) writeFileSync(`${outside}/e${e}.txt`, `slot ${e} before\n`);
    const pairs: string[] = [];
    for (let d = 0; d < DIRS; d += 1) {
      mkdirSync(`${grant}/d${d}`);
      mkdirSync(`${grant}/d${d}/sub`);
      writeFileSync(`${grant}/d${d}/log.txt`, '');
      for (let e = 0; e < editFiles; e += 1) writeFileSync(`${grant}/d${d}/e${e}.txt`, `slot ${e} before\n`);
      symlinkSync(d % 2 === 0 ? outside : `${outside}/sub`, `${grant}/l${d}`);
      pairs.push(`${grant}/d${d}:${grant}/l${d}`);
    }
    // a hard link inside the grant to a file outside it: appends must refuse it
    linkSync(`${outside}/secret.txt`, `${grant}/hardlink.txt`);
    const before = snapshot(outside);

    const t = testSupervisor({ tools: createFsTools() });
    try {
      const caps = [
        'tool: file_write',
        'tool: file_edit',
        'tool: file_read',
        `file_write: ${grant}/*`,
        `file_read: ${grant}/*`,
      ];
      const agent = await t.sup.spawn(commandManifest('racer-victim', caps), { module: COMMAND_AGENT, concurrency: 4 });

      type Outcome = { kind: number; token: string; ok: boolean; code?: string };
      const outcomes: Outcome[] = [];
      let n = 0;
      const callOnce = async (): Promise<void> => {
        const i = n++;
        const d = i % DIRS;
        const token = `tok-${i}-${Math.random().toString(36).slice(2)}`;
        const kind = i % 4;
        let name: string;
        let input: Record<string, unknown>;
        if (kind === 0) {
          name = 'file_write';
          input = { path: `${grant}/d${d}/n${i}/deep/f.txt`, content: `${token}\n` };
        } else if (kind === 1) {
          name = 'file_write';
          input = { path: `${grant}/d${d}/log.txt`, content: `${token}\n`, append: true };
        } else if (kind === 2) {
          name = 'file_edit';
          input = {
            path: `${grant}/d${d}/e${Math.floor(i / 4) % editFiles}.txt`,
            old_string: 'before',
            new_string: token,
          };
        } else {
          name = 'file_write';
          input = { path: `${grant}/d${d}/f.txt`, content: `${token}\n` };
        }
        // one call in eight goes through a real worker, the rest through the API dispatch path
        try {
          if (i % 8 === 7) {
            const out = await t.sup.run(agent.id, `tool ${name} ${JSON.stringify(input)}`);
            if (out.stop_reason === 'error') throw Object.assign(new Error(out.response), { code: out.error?.code });
          } else {
            await t.sup.invokeTool(agent.id, name, input);
          }
          outcomes.push({ kind, token, ok: true });
        } catch (err) {
          outcomes.push({ kind, token, ok: false, code: String((err as { code?: unknown }).code) });
        }
        // replacing writes overwrite one another: only the last one per file can be looked for
        if (kind === 3) outcomes[outcomes.length - 1]!.token = '';
      };

      const renamer = await startRenamer(pairs);
      const started = Date.now();
      const lane = async (): Promise<void> => {
        while (n < MIN_CALLS || Date.now() - started < MIN_RACE_MS) await callOnce();
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
      const raceMs = Date.now() - started;
      const swaps = await renamer.stop();
      // the hard link: an append through it would write outside
      const hard = await t.sup
        .invokeTool(agent.id, 'file_write', { path: `${grant}/hardlink.txt`, content: 'leak\n', append: true })
        .then(
          () => 'ok',
          (err: { code?: string }) => String(err.code),
        );

      const after = snapshot(outside);
      const changed = [...new Set([...before.keys(), ...after.keys()])].filter((k) => before.get(k) !== after.get(k));
      expect(changed, 'entries outside the grant created or changed').toEqual([]);
      expect(hard).toBe('AAOS_ERR_PATH_INVALID');
      expect(readFileSync(`${outside}/secret.txt`, 'utf8')).toBe('outside secret\n');

      const ok = outcomes.filter((o) => o.ok);
      const inside = allText(grant);
      const missing = ok.filter((o) => o.token !== '' && !inside.includes(o.token)).map((o) => o.token);
      expect(missing, 'successful writes not found inside the grant').toEqual([]);
      // refusals are the safe-path errors, never a crash or an internal error
      const codes = new Set(outcomes.filter((o) => !o.ok).map((o) => o.code));
      for (const code of codes)
        expect([
          'AAOS_ERR_PATH_SYMLINK',
          'AAOS_ERR_PATH_INVALID',
          'AAOS_ERR_PATH_NOT_FOUND',
          'AAOS_ERR_EDIT_NO_MATCH',
          'AAOS_ERR_TOOL_FAILED',
        ]).toContain(code);
      // the race was real and long enough, and writing still works under it
      expect(outcomes.length).toBeGreaterThanOrEqual(MIN_CALLS);
      expect(raceMs).toBeGreaterThanOrEqual(MIN_RACE_MS);
      expect(swaps).toBeGreaterThan(100);
      // every kind of call (create with mkdir, append, edit, replace) still succeeds sometimes
      const succeededKinds = new Set(ok.map((o) => o.kind));
      expect([...succeededKinds].sort()).toEqual([0, 1, 2, 3]);
    } finally {
      await t.close();
    }
  }, 180_000);
});
