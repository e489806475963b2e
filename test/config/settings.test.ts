import { readFileSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Config, defaultLabel, readSetting } from '../../src/config/config.js';
import { intFromEnv } from '../../src/config/env.js';
import { SETTINGS, type SettingName } from '../../src/config/settings.js';
import { ErrorCode } from '../../src/errors/index.js';

const NAMES = Object.keys(SETTINGS) as SettingName[];

function documentedRows(): Map<string, { def: string; meaning: string }> {
  const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
  const rows = new Map<string, { def: string; meaning: string }>();
  for (const line of doc.split('\n')) {
    const m = /^\| `([A-Z_]+)` \| (.+?) \| (.+) \|$/.exec(line);
    if (m) rows.set(m[1]!, { def: m[2]!, meaning: m[3]! });
  }
  return rows;
}

describe('the settings table', () => {
  it('docs/configuration.md lists every setting with its default, and nothing else', () => {
    const rows = documentedRows();
    expect(NAMES.filter((n) => !rows.has(n))).toEqual([]);
    expect([...rows.keys()].filter((n) => !NAMES.includes(n as SettingName))).toEqual([]);
    for (const name of NAMES) {
      expect({ name, def: rows.get(name)!.def }).toEqual({ name, def: defaultLabel(name) });
      expect(rows.get(name)!.meaning.trim()).not.toBe('');
    }
  });

  it('no code outside src/config reads a variable by name that the table does not define', () => {
    const root = new URL('../../src/', import.meta.url);
    const files = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter(
      (f) => f.endsWith('.ts') && !f.startsWith('config/'),
    );
    const strays: string[] = [];
    for (const file of files) {
      const text = readFileSync(new URL(file, root), 'utf8');
      for (const m of text.matchAll(/env\[['"`]([A-Z_]+)['"`]\]/g))
        strays.push(`${file}: reads env['${m[1]}'] directly`);
      for (const m of text.matchAll(/['"`]((?:AAOS|ANTHROPIC|OPENAI|DEEPSEEK|OLLAMA)_[A-Z_]+)['"`]/g)) {
        if (!m[1]!.startsWith('AAOS_ERR_') && !NAMES.includes(m[1] as SettingName)) strays.push(`${file}: ${m[1]}`);
      }
    }
    expect(strays).toEqual([]);
  });

  it('defaults apply when nothing is set; an empty value counts as unset', () => {
    const config = Config.load({ env: { AAOS_MAX_AGENTS: '  ' } });
    expect(config.get('AAOS_MAX_AGENTS')).toBe(100);
    expect(config.get('AAOS_RESUME_RUNS')).toBe(true);
    expect(config.get('AAOS_SKILLS_DIR')).toEqual([]);
    expect(config.get('AAOS_EMBEDDINGS_DIMS')).toBeUndefined();
    expect(config.origin('AAOS_MAX_AGENTS')).toEqual({ from: 'default' });
  });

  it('parses each kind and records where a value came from', () => {
    const config = Config.load({
      env: {
        AAOS_MAX_AGENTS: '7',
        AAOS_RESUME_RUNS: 'no',
        AAOS_SKILLS_DIR: '/a::/b',
        AAOS_DATA_DIR: 'rel/dir',
        OLLAMA_BASE_URL: 'http://127.0.0.1:1/v1',
      },
    });
    expect(config.get('AAOS_MAX_AGENTS')).toBe(7);
    expect(config.get('AAOS_RESUME_RUNS')).toBe(false);
    expect(config.get('AAOS_SKILLS_DIR')).toEqual(['/a', '/b']);
    expect(config.get('AAOS_DATA_DIR')).toBe(resolve('rel/dir'));
    expect(config.get('OLLAMA_BASE_URL')).toBe('http://127.0.0.1:1/v1');
    expect(config.origin('AAOS_MAX_AGENTS')).toEqual({ from: 'env' });
  });

  it('rejects every invalid value at once, each with its variable name', () => {
    let caught: unknown;
    try {
      Config.load({
        env: {
          AAOS_MAX_AGENTS: 'lots',
          AAOS_WORKER_NICE: '25',
          AAOS_RESUME_RUNS: 'maybe',
          ANTHROPIC_BASE_URL: 'ftp://x',
        },
      });
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ code: ErrorCode.CONFIG_INVALID });
    const problems = (caught as { details: { problems: Array<{ variable: string }> } }).details.problems;
    expect(problems.map((p) => p.variable).sort()).toEqual([
      'AAOS_MAX_AGENTS',
      'AAOS_RESUME_RUNS',
      'AAOS_WORKER_NICE',
      'ANTHROPIC_BASE_URL',
    ]);
    const message = (caught as Error).message;
    expect(message).toContain('AAOS_MAX_AGENTS="lots" is invalid: expected a whole number ≥ 1');
    expect(message).toContain('AAOS_WORKER_NICE="25" is invalid: expected a whole number from 0 to 19');
    expect(message).toContain('AAOS_RESUME_RUNS="maybe" is invalid');
    expect(message).toContain('ANTHROPIC_BASE_URL="ftp://x" is invalid');
  });

  it('a whole-number setting accepts exactly the integers in range', () => {
    const odd = ['1.5', '1e3', '0x10', ' 7 ', '+3', '-0', 'NaN', 'Infinity', '١٢', '10abc', '9007199254740993'];
    for (const raw of [...Array.from({ length: 101 }, (_, i) => String(i - 50)), ...odd]) {
      const valid = /^\s*-?\d+\s*$/.test(raw) && Number(raw) >= 0 && Number(raw) <= 19;
      if (valid) expect(readSetting({ AAOS_WORKER_NICE: raw }, 'AAOS_WORKER_NICE')).toBe(Number(raw));
      else
        expect(() => readSetting({ AAOS_WORKER_NICE: raw }, 'AAOS_WORKER_NICE'), raw).toThrow(
          /AAOS_WORKER_NICE=.* is invalid/,
        );
    }
  });

  it("readSetting on a loaded config's env returns the values parsed at start", () => {
    const config = Config.load({ env: { AAOS_PARK_IDLE_MS: '0', SOMETHING_ELSE: 'kept' } });
    expect(readSetting(config.env, 'AAOS_PARK_IDLE_MS')).toBe(0);
    expect(config.env['SOMETHING_ELSE']).toBe('kept');
  });

  it('intFromEnv reads a tabled setting through its schema and keeps its own rules for the rest', () => {
    expect(intFromEnv({}, 'AAOS_MAX_AGENTS', 1, 1)).toBe(100);
    expect(() => intFromEnv({ AAOS_WORKER_NICE: '40' }, 'AAOS_WORKER_NICE', 10, 0)).toThrow(
      /AAOS_WORKER_NICE="40" is invalid/,
    );
    expect(intFromEnv({}, 'AAOS_NOT_YET_TABLED', 9, 1)).toBe(9);
    expect(() => intFromEnv({ AAOS_NOT_YET_TABLED: 'x' }, 'AAOS_NOT_YET_TABLED', 9, 1)).toThrow(
      /AAOS_NOT_YET_TABLED="x" is invalid/,
    );
  });

  it('secrets are masked when described', () => {
    const config = Config.load({ env: { ANTHROPIC_API_KEY: 'sk-very-secret' } });
    const row = config.describe().find((r) => r.name === 'ANTHROPIC_API_KEY')!;
    expect(row.value).toBe('(set)');
    expect(JSON.stringify(config.describe())).not.toContain('sk-very-secret');
  });
});
