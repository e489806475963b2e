import { AaosError, ErrorCode } from '../errors/index.js';
import { closestMatch } from '../manifest/suggest.js';
import type { Setting } from './setting-kinds.js';
import { SETTINGS, isSettingName, type SettingName, type SettingValue } from './settings.js';

export type EnvRecord = Readonly<Record<string, string | undefined>>;

/** Where an effective value came from. */
export type SettingOrigin = { from: 'default' } | { from: 'env' } | { from: 'file'; file: string };

/** Values read from a config file, keyed by variable name (`AAOS_MAX_AGENTS`) or its short form (`max_agents`). */
export interface ConfigFileValues {
  file: string;
  values: Record<string, unknown>;
}

interface ConfigProblem {
  variable: string;
  value: string;
  message: string;
  /** the file, when the bad value came from one */
  file?: string;
}

/** `AAOS_MAX_AGENTS` → `max_agents`; `ANTHROPIC_API_KEY` → `anthropic_api_key`. */
function shortName(name: SettingName): string {
  return name.replace(/^AAOS_/, '').toLowerCase();
}

const BY_SHORT_NAME = new Map<string, SettingName>(
  (Object.keys(SETTINGS) as SettingName[]).map((name) => [shortName(name), name]),
);

function rawText(value: unknown): string {
  return Array.isArray(value) ? value.join(':') : String(value);
}

function problemText(name: string, value: unknown, message: string, file?: string): string {
  return `${name}=${JSON.stringify(rawText(value))}${file ? ` (in ${file})` : ''} is invalid: ${message}`;
}

/** Parses one raw value with its setting's schema: the value, or the problem. */
function parseOne(
  name: SettingName,
  value: unknown,
  file?: string,
): { ok: true; value: unknown } | { ok: false; problem: ConfigProblem } {
  const setting = SETTINGS[name] as Setting<unknown>;
  const result = setting.schema.safeParse(value);
  if (result.success) return { ok: true, value: result.data };
  const message = result.error.issues[0]?.message ?? 'invalid';
  return { ok: false, problem: { variable: name, value: rawText(value), message, ...(file ? { file } : {}) } };
}

function invalid(problems: ConfigProblem[]): AaosError {
  const lines = problems.map((p) => problemText(p.variable, p.value, p.message, p.file));
  return new AaosError(ErrorCode.CONFIG_INVALID, lines.join('; '), {
    variable: problems[0]!.variable,
    value: problems[0]!.value,
    ...(problems[0]!.file ? { file: problems[0]!.file } : {}),
    problems,
  });
}

/** Unset: absent or blank, so `FOO= agentd` does not look configured. */
function present(value: unknown): boolean {
  return value !== undefined && value !== null && !(typeof value === 'string' && value.trim() === '');
}

/**
 * The effective settings: parsed once at start from the environment over the config file
 * over the defaults. `env` is the merged view (file values as text, the environment
 * winning) for code that still reads variables by name.
 */
export class Config {
  private constructor(
    private readonly values: Map<SettingName, unknown>,
    private readonly origins: Map<SettingName, SettingOrigin>,
    readonly env: EnvRecord,
  ) {}

  get<K extends SettingName>(name: K): SettingValue<K> {
    return this.values.get(name) as SettingValue<K>;
  }

  origin(name: SettingName): SettingOrigin {
    return this.origins.get(name) ?? { from: 'default' };
  }

  /** Every setting with its value and origin, in table order; secrets masked. */
  describe(): Array<{ name: SettingName; value: unknown; origin: SettingOrigin; secret: boolean }> {
    return (Object.keys(SETTINGS) as SettingName[]).map((name) => {
      const secret = (SETTINGS[name] as Setting<unknown>).secret === true;
      const value = this.values.get(name);
      return { name, value: secret && value !== undefined ? '(set)' : value, origin: this.origin(name), secret };
    });
  }

  /**
   * Parses every setting; every invalid value (environment or file, and unknown keys in
   * the file) is reported at once, each with its variable's name.
   */
  static load(options: { env: EnvRecord; file?: ConfigFileValues }): Config {
    const problems: ConfigProblem[] = [];
    const fromFile = new Map<SettingName, unknown>();
    if (options.file) {
      for (const [key, value] of Object.entries(options.file.values)) {
        const name = isSettingName(key) ? key : BY_SHORT_NAME.get(key);
        if (!name) {
          const hint = closestMatch(key, [...BY_SHORT_NAME.keys(), ...BY_SHORT_NAME.values()]);
          const message = `not a setting${hint ? ` (did you mean '${hint}'?)` : ''}; docs/configuration.md lists them`;
          problems.push({ variable: key, value: rawText(value), message, file: options.file.file });
          continue;
        }
        if (present(value)) fromFile.set(name, value);
      }
    }
    const values = new Map<SettingName, unknown>();
    const origins = new Map<SettingName, SettingOrigin>();
    const merged: Record<string, string | undefined> = {};
    for (const name of Object.keys(SETTINGS) as SettingName[]) {
      const envValue = options.env[name];
      let raw: unknown;
      let origin: SettingOrigin = { from: 'default' };
      if (present(envValue)) {
        raw = envValue;
        origin = { from: 'env' };
      } else if (fromFile.has(name)) {
        raw = fromFile.get(name);
        origin = { from: 'file', file: options.file!.file };
        merged[name] = rawText(raw);
      }
      if (raw === undefined) {
        values.set(name, (SETTINGS[name] as Setting<unknown>).default);
        continue;
      }
      const parsed = parseOne(name, raw, origin.from === 'file' ? origin.file : undefined);
      if (!parsed.ok) problems.push(parsed.problem);
      else {
        values.set(name, parsed.value);
        origins.set(name, origin);
      }
    }
    if (problems.length > 0) throw invalid(problems);
    const env = Object.freeze({ ...merged, ...options.env });
    const config = new Config(values, origins, env);
    LOADED.set(env, config);
    return config;
  }
}

/** The config each merged env record came from, so a reader handed only the env re-parses nothing. */
const LOADED = new WeakMap<EnvRecord, Config>();

/**
 * One setting from an env record: the value parsed at start when `env` is a Config's
 * merged env, else parsed here with the same schema (tests, and callers given a plain env).
 */
export function readSetting<K extends SettingName>(env: EnvRecord, name: K): SettingValue<K> {
  const loaded = LOADED.get(env);
  if (loaded) return loaded.get(name);
  const raw = env[name];
  if (!present(raw)) return (SETTINGS[name] as Setting<unknown>).default as SettingValue<K>;
  const parsed = parseOne(name, raw);
  if (!parsed.ok) throw invalid([parsed.problem]);
  return parsed.value as SettingValue<K>;
}

/** The default as the docs and `agentd config` show it: `` `10000` ``, `` `1` ``, a described default, or —. */
export function defaultLabel(name: SettingName): string {
  const setting = SETTINGS[name] as Setting<unknown>;
  if (setting.defaultText) return setting.defaultText;
  const value = setting.default;
  if (value === undefined || (Array.isArray(value) && value.length === 0)) return '—';
  if (typeof value === 'boolean') return value ? '`1`' : '`0`';
  return `\`${String(value)}\``;
}
