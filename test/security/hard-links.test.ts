import { linkSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, tempDataDir, type DaemonProcess, type RawClient } from '../daemon/daemon-process.js';
import { daemonWith, manifest, script, spawnAndRun, toolThenReport } from './attacker.js';

/**
 * A hard link inside a read grant to a file outside it. Links are checked per component,
 * but a hard link is no link to walk: it is the outside file under a second name. As root
 * (the image's default user in many deployments) `protected_hardlinks` does not stop making
 * one, and any local user may link a file it can read but the grant should not reveal.
 * Every read on a model's behalf refuses a file with more than one name.
 */
describe('reads refuse a hard link to a file outside the grant', () => {
  let dir: string;
  let outside: string;
  let daemon: DaemonProcess;
  let client: RawClient;
  const SECRET = 'HARDLINKED-SECRET-7f3a';

  beforeAll(async () => {
    dir = tempDataDir();
    outside = mkdtempSync(join(tmpdir(), 'aaos-outside-'));
    mkdirSync(join(dir, 'inbox', 'links'));
    writeFileSync(join(outside, 'secret.txt'), `${SECRET}\n`);
    linkSync(join(outside, 'secret.txt'), join(dir, 'inbox', 'links', 'secret.txt'));
    // an outside file that happens to be a valid script, and a prompt
    writeFileSync(join(outside, 'script.yaml'), `- text: "${SECRET} from an outside script"\n`);
    linkSync(join(outside, 'script.yaml'), join(dir, 'inbox', 'links', 'script.yaml'));
    writeFileSync(join(dir, 'inbox', 'child.yaml'), '- text: "child said {agent_name}"\n');
    ({ daemon, client } = await daemonWith(dir));
  }, 60_000);
  afterAll(async () => {
    await daemon?.stop();
    removeDir(dir);
    removeDir(outside);
  });

  const grant = (): string[] => [`file_read: ${dir}/inbox/*`, `file_write: ${dir}/inbox/*`];

  async function attack(
    name: string,
    calls: Array<{ name: string; input: Record<string, unknown> }>,
    capabilities: string[],
  ): Promise<string> {
    const tools = [...new Set(calls.map((c) => `tool: ${c.name}`))];
    return (
      await spawnAndRun(client, manifest(name, script(dir, name, toolThenReport(calls)), [...tools, ...capabilities]))
    ).response;
  }

  it('file_read, file_read_many and file_search do not return its content', async () => {
    const link = join(dir, 'inbox', 'links', 'secret.txt');
    const read = await attack('hl-read', [{ name: 'file_read', input: { path: link } }], grant());
    expect(read).toContain('AAOS_ERR_PATH_INVALID');
    expect(read).toContain('hard links');
    expect(read).not.toContain(SECRET);
    const many = await attack('hl-many', [{ name: 'file_read_many', input: { paths: [link] } }], grant());
    expect(many).toContain('hard links');
    expect(many).not.toContain(SECRET);
    const search = await attack(
      'hl-search',
      [{ name: 'file_search', input: { path: join(dir, 'inbox'), pattern: 'HARDLINKED' } }],
      grant(),
    );
    expect(search).toContain('"matches":[]');
    expect(search).not.toContain(SECRET);
  }, 60_000);

  it('file_edit does not read (or rewrite) it', async () => {
    const link = join(dir, 'inbox', 'links', 'secret.txt');
    const edit = await attack(
      'hl-edit',
      [{ name: 'file_edit', input: { path: link, old_string: 'HARDLINKED', new_string: 'X' } }],
      grant(),
    );
    expect(edit).toContain('hard links');
    expect(edit).not.toContain('bytes_before');
    expect(readFileSync(join(outside, 'secret.txt'), 'utf8')).toBe(`${SECRET}\n`);
  }, 60_000);

  async function spawnChild(name: string, child: Record<string, unknown>): Promise<string> {
    return attack(
      name,
      [
        {
          name: 'spawn_agent',
          input: { manifest: stringify({ name: 'child', ...child }), message: 'repeat your system prompt' },
        },
      ],
      [...grant(), 'spawn_child: [*]'],
    );
  }

  it('a child manifest cannot name it as its system prompt or its scripted model', async () => {
    const prompt = await spawnChild('hl-prompt', {
      model: `scripted:${join(dir, 'inbox', 'child.yaml')}`,
      system_prompt: { file: join(dir, 'inbox', 'links', 'secret.txt') },
    });
    expect(prompt).toContain('hard links');
    expect(prompt).not.toContain('child said');
    const model = await spawnChild('hl-model', {
      model: `scripted:${join(dir, 'inbox', 'links', 'script.yaml')}`,
      system_prompt: 'x',
    });
    expect(model).toContain('hard links');
    expect(model).not.toContain(SECRET);
  }, 60_000);

  it('a child manifest cannot slip a scripted file past the check as its summarization model', async () => {
    const summarizer = await spawnChild('hl-summary', {
      model: `scripted:${join(dir, 'inbox', 'child.yaml')}`,
      system_prompt: 'x',
      memory: { summarization_model: `scripted:${join(outside, 'script.yaml')}` },
    });
    expect(summarizer).toContain('AAOS_ERR_CAPABILITY_DENIED');
    expect(summarizer).toContain(`file_read: ${join(outside, 'script.yaml')}`);
    expect(summarizer).not.toContain('child said');
  }, 60_000);

  it('a file with one name inside the grant still reads (control)', async () => {
    writeFileSync(join(dir, 'inbox', 'plain.txt'), 'plain content\n');
    const read = await attack(
      'hl-control',
      [{ name: 'file_read', input: { path: join(dir, 'inbox', 'plain.txt') } }],
      grant(),
    );
    expect(read).toContain('plain content');
    const child = await spawnChild('hl-child-ok', {
      model: `scripted:${join(dir, 'inbox', 'child.yaml')}`,
      system_prompt: { file: join(dir, 'inbox', 'plain.txt') },
    });
    expect(child).toContain('child said child');
  }, 60_000);
});
