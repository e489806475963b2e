import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/lmdb-env.js';
import { RunStore } from '../../src/store/run-store.js';
import { AGENTD, BOOTSTRAP, ROOT, removeDir } from '../daemon/daemon-process.js';
import { runAgentd } from '../support/run-agentd.js';

// a pipe run must not pick up a socket from the developer's environment
const NO_SOCKET = { AAOS_SOCKET: '' };

// every temp dir a test makes is removed after it
const dirs: string[] = [];
const temp = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'aaos-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) removeDir(dir);
});

describe('a first run tells the truth', { timeout: 120_000 }, () => {
  it('without --bootstrap uses the bundled one from any directory, seeds the demo inbox of a new data dir and says so', async () => {
    const dataDir = join(temp(), 'data');
    const res = await runAgentd(['run', '--stdin', '--data-dir', dataDir], {
      env: NO_SOCKET,
      input: 'Report on the inbox\n',
      cwd: temp(),
    });
    expect(res.stderr).toContain(`copied the demo inbox (3 files) to ${join(dataDir, 'inbox')}`);
    expect(res.stderr).toContain(`bootstrap agent from ${BOOTSTRAP}`);
    expect(res.code).toBe(0);
    expect(readdirSync(join(dataDir, 'inbox')).sort()).toEqual(['maintenance.md', 'ridership.md', 'survey.md']);
  });

  it('the report is built from the inbox it read, and says it was scripted', async () => {
    const dataDir = temp();
    mkdirSync(join(dataDir, 'inbox'));
    writeFileSync(join(dataDir, 'inbox', 'otters.md'), 'The otter survey counted 23 otters near the weir.\n');
    const res = await runAgentd(['run', '--stdin', '--data-dir', dataDir], {
      env: NO_SOCKET,
      input: 'Write about otters\n',
    });
    expect(res.code).toBe(0);
    expect(res.stderr).not.toContain('copied the demo inbox');
    const [runId] = readdirSync(join(dataDir, 'workspace'));
    const report = readFileSync(join(dataDir, 'workspace', runId!, 'report.md'), 'utf8');
    expect(report).toContain('The otter survey counted 23 otters near the weir.');
    expect(report).toContain('scripted model');
    expect(report).not.toMatch(/bike|ridership|Central Station/i);
  });

  it('an empty inbox stops the scripted agents with a clear error instead of a made-up report', async () => {
    const dataDir = temp();
    mkdirSync(join(dataDir, 'inbox'));
    const res = await runAgentd(['run', '--stdin', '--data-dir', dataDir], { env: NO_SOCKET, input: 'Report\n' });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`the inbox ${join(dataDir, 'inbox')} is empty`);
    expect(res.stderr).toContain('AAOS_ERR_SCRIPT_CHECK_FAILED');
    expect(res.stdout).toMatch(/■ error AAOS_ERR_SCRIPT_CHECK_FAILED: the inbox/); // the live view names the error
    const [runId] = readdirSync(join(dataDir, 'workspace'));
    expect(readdirSync(join(dataDir, 'workspace', runId!))).not.toContain('report.md');
  });
});

describe('errors found at start, named', { timeout: 120_000 }, () => {
  it.each([
    ['a missing file', (dir: string) => join(dir, 'nope.yaml'), 'manifest not found'],
    ['a directory', (dir: string) => dir, 'manifest is not a regular file (a directory)'],
  ])(
    'a bootstrap that is %s: AAOS_ERR_MANIFEST_NOT_FOUND with the path and a hint, exit 1',
    async (_what, pathOf, reason) => {
      const dir = temp();
      const res = await runAgentd(['run', '--stdin', '--data-dir', join(dir, 'data'), '--bootstrap', pathOf(dir)], {
        env: NO_SOCKET,
        input: 'x\n',
      });
      expect(res.code).toBe(1);
      expect(res.stderr).toContain('AAOS_ERR_MANIFEST_NOT_FOUND');
      expect(res.stderr).toContain(reason);
      expect(res.stderr).toContain(
        `hint: --bootstrap takes a manifest file; without it agentd uses the bundled ${BOOTSTRAP}`,
      );
    },
  );

  it('a bootstrap model that needs a missing key stops the start, naming the variable', async () => {
    const dir = temp();
    const manifest = join(dir, 'boss.yaml');
    writeFileSync(manifest, 'name: boss\nmodel: claude-sonnet-4-5\nlifecycle: persistent\nsystem_prompt: lead\n');
    const res = await runAgentd(['run', '--stdin', '--data-dir', join(dir, 'data'), '--bootstrap', manifest], {
      env: { ...NO_SOCKET, ANTHROPIC_API_KEY: '' },
      input: 'x\n',
    });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('AAOS_ERR_MODEL_UNAVAILABLE');
    expect(res.stderr).toContain(`the bootstrap agent (${manifest}) cannot be served`);
    expect(res.stderr).toContain('ANTHROPIC_API_KEY is not set');
  });

  it('an AAOS_MODEL_OVERRIDE that routes nowhere stops the start', async () => {
    const dir = temp();
    const res = await runAgentd(['run', '--stdin', '--data-dir', dir], {
      env: { ...NO_SOCKET, AAOS_MODEL_OVERRIDE: 'bogus-model' },
      input: 'x\n',
    });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('AAOS_ERR_MODEL_UNKNOWN');
    expect(res.stderr).toContain('set by AAOS_MODEL_OVERRIDE');
  });

  it('an empty stdin says no goals were read and exits 0', async () => {
    const res = await runAgentd(['run', '--stdin', '--data-dir', temp()], { env: NO_SOCKET, input: '\n  \n' });
    expect(res.code).toBe(0);
    expect(res.stderr).toContain('no goals read from standard input');
  });

  it('invalid arguments exit 2 and list the allowed values', async () => {
    const res = await runAgentd(['runs', '--state', 'bogus', '--socket', join(temp(), 'none.sock')]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(
      "argument 'bogus' is invalid. Allowed choices are queued, running, completed, failed, cancelled, interrupted",
    );
  });

  it('validate finds unknown tools (did you mean), missing scripted files and bootstrap rules', async () => {
    const dir = temp();
    const typo = join(dir, 'typo.yaml');
    writeFileSync(typo, 'name: a\nmodel: claude-x\ncapabilities:\n  - "tool: file_raed"\n');
    const script = join(dir, 'script.yaml');
    writeFileSync(script, 'name: b\nmodel: scripted:missing.yaml\n');
    const oneShot = join(dir, 'one-shot.yaml');
    writeFileSync(oneShot, 'name: c\nmodel: claude-x\n');
    const res = await runAgentd(['validate', typo, script]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`${typo}:4:5: capabilities[0]: unknown tool 'file_raed' (did you mean 'file_read'?)`);
    expect(res.stderr).toContain(`${script}: model: AAOS_ERR_SCRIPT_INVALID`);
    expect(res.stderr).toContain(join(dir, 'missing.yaml'));
    const boot = await runAgentd(['validate', '--bootstrap', oneShot]);
    expect(boot.code).toBe(1);
    expect(boot.stderr).toContain('the bootstrap agent must have lifecycle: persistent');
    const shipped = await runAgentd(['validate', '--bootstrap', BOOTSTRAP]);
    expect(shipped.code).toBe(0);
    const examples = await runAgentd([
      'validate',
      ...readdirSync(join(ROOT, 'manifests', 'examples'))
        .filter((f) => f.endsWith('.yaml'))
        .map((f) => join(ROOT, 'manifests', 'examples', f)),
    ]);
    expect(examples.stderr).toBe('');
    expect(examples.code).toBe(0);
  });
});

describe('run --stdin on SIGINT / SIGTERM', { timeout: 120_000 }, () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s cancels the running goals, records them cancelled and exits %i', async (signal, code) => {
    const dir = mkdtempSync(join(tmpdir(), 'aaos-'));
    try {
      const script = join(dir, 'slow.yaml');
      writeFileSync(script, 'latency_ms: 600000\nturns:\n  - text: "never in time"\n');
      const manifest = join(dir, 'slow-boss.yaml');
      writeFileSync(manifest, `name: slow\nmodel: scripted:${script}\nlifecycle: persistent\nsystem_prompt: wait\n`);
      const dataDir = join(dir, 'data');
      const child = spawn(
        process.execPath,
        [AGENTD, 'run', '--stdin', '--json', '--data-dir', dataDir, '--bootstrap', manifest],
        {
          env: { ...process.env, ...NO_SOCKET },
          stdio: ['pipe', 'pipe', 'pipe'],
        },
      );
      const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
      // stdin stays open: the run is interrupted, not finished
      child.stdin.write('wait for a very slow model\n');
      for await (const line of createInterface({ input: child.stdout })) {
        if ((JSON.parse(line) as { event?: { type: string } }).event?.type === 'AgentExecutionStarted') break;
      }
      child.kill(signal);
      expect(await exited).toBe(code);
      const store = openStore(dataDir);
      try {
        const runs = new RunStore(store).list({});
        expect(runs.map((r) => r.state)).toEqual(['cancelled']);
        expect(runs[0]!.error?.message).toContain(`${signal} received`);
      } finally {
        await store.close();
      }
    } finally {
      removeDir(dir);
    }
  });
});
