import { SETTINGS } from '../config/settings.js';
import type { Setting } from '../config/setting-kinds.js';
import { AaosError, isAaosError } from '../errors/index.js';

/**
 * Provider error bodies sometimes echo what they were sent, the key included ("invalid
 * API key sk-…"). Those texts travel on to the agent (its tool and model errors), the audit
 * log and socket clients, so every configured secret is cut out of a provider error at the
 * one place it enters: the gateway's call of a provider.
 */

const REDACTED = '[redacted]';
/** shorter values are not treated as secrets: replacing them would mangle ordinary text */
const MIN_SECRET_CHARS = 6;

/** The values of every secret setting (API keys) present in `env`, longest first. */
export function configuredSecrets(env: NodeJS.ProcessEnv): string[] {
  const values = new Set<string>();
  for (const [name, setting] of Object.entries(SETTINGS)) {
    if ((setting as Setting<unknown>).secret !== true) continue;
    const value = env[name]?.trim();
    if (value !== undefined && value.length >= MIN_SECRET_CHARS) values.add(value);
  }
  return [...values].sort((a, b) => b.length - a.length);
}

function scrubText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  return out;
}

function scrubValue(value: unknown, secrets: readonly string[], depth = 0): unknown {
  if (typeof value === 'string') return scrubText(value, secrets);
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => scrubValue(v, secrets, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrubValue(v, secrets, depth + 1);
  return out;
}

/** The same error with every secret replaced in its message and details; the cause (an SDK object) is dropped. */
export function scrubError(err: unknown, secrets: readonly string[]): unknown {
  if (secrets.length === 0) return err;
  if (isAaosError(err)) {
    return new AaosError(
      err.code,
      scrubText(err.message, secrets),
      scrubValue(err.details ?? {}, secrets) as Record<string, unknown>,
    );
  }
  if (err instanceof Error) {
    const clean = new Error(scrubText(err.message, secrets));
    clean.name = err.name;
    return clean;
  }
  return typeof err === 'string' ? scrubText(err, secrets) : err;
}
