import { AaosError, ErrorCode } from '../errors/index.js';
import { canonicalHost } from '../capability/capability-match.js';
import { formatCapability } from '../capability/capability.js';
import type { Capability, CapabilityGrant, Constraints } from '../capability/capability.js';
import { AGENT_NAME_PATTERN, AGENT_NAME_RULE, TOOL_NAME_PATTERN, TOOL_NAME_RULE } from './schema.js';
import type { ManifestCapability } from './schema.js';
import { closestMatch, didYouMean } from './suggest.js';

/** Every kind a manifest may name; `web_search` is an alias of `network: *`. */
const CAPABILITY_KINDS = [
  'file_read',
  'file_write',
  'network',
  'web_search',
  'tool',
  'spawn_child',
  'message_send',
] as const;
type ManifestCapabilityKind = (typeof CAPABILITY_KINDS)[number];

/** Placeholders a path capability may start with; expanded at spawn (expand.ts). */
const PATH_PLACEHOLDERS = ['data_dir', 'workspace'] as const;
export type PathPlaceholder = (typeof PATH_PLACEHOLDERS)[number];

/** Keys of the map form besides the capability itself. */
const CONSTRAINT_KEYS = ['max_invocations', 'expires_in_seconds'] as const;
const MAP_KEYS: readonly string[] = ['capability', ...CONSTRAINT_KEYS, ...CAPABILITY_KINDS];

/**
 * Thrown errors carry `details.path` (a sub-path inside the entry, e.g. `['max_invocations']`)
 * and `details.at_key` so the manifest parser can point at the exact YAML node.
 */
function fail(message: string, path: (string | number)[] = [], atKey = false): never {
  throw new AaosError(ErrorCode.MANIFEST_INVALID, message, { path, at_key: atKey });
}

function isKind(text: string): text is ManifestCapabilityKind {
  return (CAPABILITY_KINDS as readonly string[]).includes(text);
}

function describeType(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `a ${typeof value}`;
}

/**
 * Parses one `capabilities:` entry. Accepted forms:
 * - a string: `file_read: /data/*`, `network: api.x.com, https://y.org/p`, `web_search`, ...
 * - a map with `capability: <string>` plus optional `max_invocations` / `expires_in_seconds`
 * - a map whose one capability key is the kind (`- file_read: /data/*` unquoted in YAML is
 *   such a map), plus the same optional constraint keys.
 * Throws AaosError(MANIFEST_INVALID) naming the problem; the caller adds file and line.
 */
export function parseCapabilityEntry(entry: unknown): ManifestCapability {
  if (typeof entry === 'string') {
    const source = entry.trim();
    return { source, grant: { capability: parseCapabilityString(source), constraints: {} } };
  }
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
    fail(`expected a capability string (e.g. 'file_read: /data/*') or a mapping, got ${describeType(entry)}`);
  }
  return parseCapabilityMap(entry as Record<string, unknown>);
}

function parseCapabilityMap(map: Record<string, unknown>): ManifestCapability {
  const keys = Object.keys(map);
  for (const key of keys) {
    if (!MAP_KEYS.includes(key)) {
      const hint = closestMatch(key, MAP_KEYS);
      if (hint !== undefined && isKind(hint))
        fail(`unknown capability kind '${key}' (did you mean '${hint}'?)`, [key], true);
      const suffix =
        hint !== undefined
          ? ` (did you mean '${hint}'?)`
          : ` (expected a capability kind, 'capability', 'max_invocations' or 'expires_in_seconds')`;
      fail(`unknown key '${key}'${suffix}`, [key], true);
    }
  }
  const kindKeys = keys.filter(isKind);
  const hasCapabilityKey = keys.includes('capability');
  if (kindKeys.length + (hasCapabilityKey ? 1 : 0) > 1) {
    const second = hasCapabilityKey ? kindKeys[0] : kindKeys[1];
    fail('a capability mapping names exactly one capability', second === undefined ? [] : [second], true);
  }

  let source: string;
  let capability: Capability;
  if (hasCapabilityKey) {
    const text = map['capability'];
    if (typeof text !== 'string') fail(`expected a capability string, got ${describeType(text)}`, ['capability']);
    source = text.trim();
    capability = withPath(['capability'], () => parseCapabilityString(source));
  } else {
    const kind = kindKeys[0];
    if (kind === undefined) fail(`missing 'capability' (e.g. capability: "tool: web_fetch")`);
    const value = map[kind];
    source = shorthandSource(kind, value);
    capability = withPath([kind], () => parseShorthand(kind, value));
  }

  const constraints: Constraints = {};
  const result: ManifestCapability = { source, grant: { capability, constraints } };
  if ('max_invocations' in map) {
    constraints.max_invocations = positiveInteger(map['max_invocations'], 'max_invocations');
  }
  if ('expires_in_seconds' in map) {
    result.expires_in_seconds = positiveInteger(map['expires_in_seconds'], 'expires_in_seconds');
  }
  return result;
}

/** Re-throws a parse error with its location moved to a sub-key of the map. */
function withPath<T>(path: (string | number)[], run: () => T): T {
  try {
    return run();
  } catch (err) {
    if (err instanceof AaosError) {
      const inner = Array.isArray(err.details?.['path']) ? (err.details['path'] as (string | number)[]) : [];
      fail(err.message, [...path, ...inner], err.details?.['at_key'] === true);
    }
    throw err;
  }
}

function positiveInteger(value: unknown, key: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    const got = typeof value === 'number' ? String(value) : describeType(value);
    fail(`expected a positive integer, got ${got}`, [key]);
  }
  return value;
}

function shorthandSource(kind: ManifestCapabilityKind, value: unknown): string {
  if (kind === 'web_search' && (value === null || value === undefined)) return kind;
  if (Array.isArray(value)) return `${kind}: [${value.map(String).join(', ')}]`;
  return `${kind}: ${String(value)}`;
}

function parseShorthand(kind: ManifestCapabilityKind, value: unknown): Capability {
  if (kind === 'web_search') {
    if (value !== null && value !== undefined && value !== '') fail(webSearchValueMessage());
    return { kind: 'network', hosts: ['*'] };
  }
  if (Array.isArray(value)) {
    if (kind !== 'network' && kind !== 'spawn_child' && kind !== 'message_send') {
      fail(`${kind} takes a single value, got a list`);
    }
    value.forEach((item, index) => {
      if (typeof item !== 'string') fail(`expected a string, got ${describeType(item)}`, [index]);
    });
    return buildCapability(kind, `[${(value as string[]).join(', ')}]`);
  }
  if (typeof value !== 'string') fail(`expected a string value, got ${describeType(value)}`);
  return buildCapability(kind, value);
}

function webSearchValueMessage(): string {
  return "web_search takes no value; to allow specific hosts write 'network: <host>, <host>'";
}

/** Parses the string form, e.g. `spawn_child: [a, b]`, into a capability (placeholders unexpanded). */
export function parseCapabilityString(text: string): Capability {
  const trimmed = text.trim();
  if (trimmed === '') fail("empty capability (expected e.g. 'file_read: /data/*')");
  const colon = trimmed.indexOf(':');
  const kindText = (colon === -1 ? trimmed : trimmed.slice(0, colon)).trim();
  const value = colon === -1 ? undefined : trimmed.slice(colon + 1).trim();

  if (!isKind(kindText)) {
    if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(kindText)) {
      fail(`unknown capability kind '${kindText}'${didYouMean(kindText, CAPABILITY_KINDS)}`);
    }
    const leading = /^[A-Za-z_]+/.exec(trimmed)?.[0];
    const hint = leading === undefined ? '' : didYouMean(leading, CAPABILITY_KINDS);
    fail(`cannot parse capability '${trimmed}': expected '<kind>: <value>'${hint}`);
  }
  if (kindText === 'web_search') {
    if (value !== undefined && value !== '') fail(webSearchValueMessage());
    return { kind: 'network', hosts: ['*'] };
  }
  if (value === undefined || value === '') fail(`${kindText} needs a value: '${kindText}: ${valueExample(kindText)}'`);
  return buildCapability(kindText, value);
}

function valueExample(kind: Exclude<ManifestCapabilityKind, 'web_search'>): string {
  switch (kind) {
    case 'file_read':
    case 'file_write':
      return '/absolute/path/*';
    case 'network':
      return 'api.example.com';
    case 'tool':
      return 'web_fetch';
    case 'spawn_child':
    case 'message_send':
      return '[agent-a, agent-b]';
  }
}

function buildCapability(kind: Exclude<ManifestCapabilityKind, 'web_search'>, value: string): Capability {
  switch (kind) {
    case 'file_read':
    case 'file_write':
      return { kind, glob: parsePathGlob(value) };
    case 'network':
      return { kind, hosts: anyOrList(splitList(value, kind).map(parseHost)) };
    case 'tool':
      return { kind, name: parseToolName(value) };
    case 'spawn_child':
      return { kind, agents: anyOrList(splitList(value, kind).map((item) => parseAgentRef(item, 'agent name'))) };
    case 'message_send':
      return {
        kind,
        targets: anyOrList(splitList(value, kind).map((item) => parseAgentRef(item, 'agent name or id'))),
      };
  }
}

/** `a, b`, `[a, b]`; empty lists and empty items (stray commas) are errors. */
function splitList(value: string, kind: string): string[] {
  let inner = value.trim();
  // list brackets enclose everything; an IPv6 literal's brackets (`[::1]:8080, a.com`) do not
  const close = inner.startsWith('[') ? matchingBracket(inner) : -1;
  const isList = close === inner.length - 1;
  if (inner.startsWith('[') && close === -1) fail(`unbalanced brackets in ${kind} list '${inner}'`);
  if (!inner.startsWith('[') && inner.endsWith(']') && !/\[[0-9A-Fa-f:.]+\]$/.test(inner))
    fail(`unbalanced brackets in ${kind} list '${inner}'`);
  if (isList) inner = inner.slice(1, -1);
  if (inner.trim() === '') fail(`${kind} needs at least one entry (use * for any)`);
  const items = inner.split(',').map((item) => item.trim());
  if (items.some((item) => item === '')) fail(`empty entry in ${kind} list '${value.trim()}' (stray comma?)`);
  return items;
}

/** Index of the `]` that closes the `[` at 0, or -1. */
function matchingBracket(text: string): number {
  let depth = 0;
  for (let i = 0; i < text.length; i += 1) {
    if (text[i] === '[') depth += 1;
    else if (text[i] === ']' && --depth === 0) return i;
  }
  return -1;
}

/** `*` anywhere in a list means any, so the list collapses to `['*']`; duplicates are dropped. */
function anyOrList(items: string[]): string[] {
  if (items.includes('*')) return ['*'];
  return [...new Set(items)];
}

function parseAgentRef(item: string, what: string): string {
  if (item === '*') return item;
  if (!AGENT_NAME_PATTERN.test(item)) fail(`'${item}' is not a valid ${what}: ${AGENT_NAME_RULE}`);
  return item;
}

/** `mcp.<server>.*`: every tool of one MCP server. */
const MCP_SERVER_WILDCARD = /^mcp\.[a-z0-9][a-z0-9_-]{0,63}\.\*$/;

function parseToolName(value: string): string {
  const name = value.trim();
  if (name === '*') return name;
  if (name.includes('*')) {
    if (MCP_SERVER_WILDCARD.test(name)) return name;
    fail(`'${name}': a tool wildcard is '*' (every built-in tool) or 'mcp.<server>.*' (every tool of one MCP server)`);
  }
  if (name.includes(',') || name.startsWith('['))
    fail(`tool takes one tool name; write one 'tool: <name>' entry per tool`);
  if (!TOOL_NAME_PATTERN.test(name)) fail(`'${name}' is not a valid tool name: ${TOOL_NAME_RULE}`);
  return name;
}

/**
 * A network grant is a host: a URL is reduced to its host, and a port (`host:8443` or
 * `https://host:8443/`) is dropped, so a grant never restricts ports. Hosts are
 * lowercased, IDNs punycoded and IPv6 literals keep their brackets, as `URL.hostname` does.
 */
export function parseHost(item: string): string {
  if (item === '*') return item;
  if (item.includes('*'))
    fail(`'${item}': a host wildcard must be the whole entry; use * for any host, or list the hosts`);
  const hasScheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(item);
  // a bare IPv6 literal (`::1`) has colons a URL would read as a port: bracket it
  const bareIpv6 = !hasScheme && !item.startsWith('[') && (item.match(/:/g) ?? []).length >= 2;
  let url: URL;
  try {
    url = new URL(hasScheme ? item : `http://${bareIpv6 ? `[${item}]` : item}`);
  } catch {
    fail(`'${item}' is not a host name or URL`);
  }
  // the URL parser compresses IPv6 (`[0:0::1]` -> `[::1]`); the match form drops the brackets
  const host = canonicalHost(url.hostname);
  if (host === '') fail(`'${item}' has no host`);
  return host;
}

const PLACEHOLDER_PATTERN = /\{([^{}]*)\}/g;

/**
 * Validates and normalises a path glob. Absolute, or starting with `{data_dir}`/`{workspace}`;
 * the only wildcard is a trailing `/*` or `/**` (same meaning, normalised to `/*`); `..` is
 * refused; empty and `.` segments and a trailing slash are dropped.
 */
export function parsePathGlob(raw: string): string {
  const text = raw.trim();
  if (text === '') fail('needs a path');
  if (/^\*+$/.test(text)) fail(`a bare '${text}' is not a path (use /* for every path)`);
  if (text.includes('\0')) fail('a path may not contain a NUL character');

  let prefix = '';
  for (const match of text.matchAll(PLACEHOLDER_PATTERN)) {
    const name = match[1] ?? '';
    if (!(PATH_PLACEHOLDERS as readonly string[]).includes(name)) {
      const hint = closestMatch(name, PATH_PLACEHOLDERS);
      const suffix = hint !== undefined ? ` (did you mean '{${hint}}'?)` : ' (known: {data_dir}, {workspace})';
      fail(`unknown placeholder '{${name}}' in '${text}'${suffix}`);
    }
    if (match.index !== 0) fail(`placeholder '{${name}}' may only begin a path: '${text}'`);
    prefix = match[0];
  }
  const rest = text.slice(prefix.length);
  if (rest.includes('{') || rest.includes('}'))
    fail(`unbalanced '{' or '}' in '${text}' (braces are reserved for placeholders)`);
  if (prefix === '' && !rest.startsWith('/')) {
    fail(`path must be absolute: '${text}' (start it with /, {data_dir} or {workspace})`);
  }
  if (prefix !== '' && rest !== '' && !rest.startsWith('/')) fail(`expected '/' after ${prefix} in '${text}'`);

  let body = rest;
  let wildcard = false;
  if (body.endsWith('/**')) {
    body = body.slice(0, -3);
    wildcard = true;
  } else if (body.endsWith('/*')) {
    body = body.slice(0, -2);
    wildcard = true;
  }
  if (body.includes('*')) fail(`'${text}': only a trailing /* is a wildcard`);
  const segments = body.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (segments.includes('..')) fail(`'..' is not allowed in a capability path: '${text}'`);

  const joined = segments.length > 0 ? `/${segments.join('/')}` : '';
  if (wildcard) return `${prefix}${joined}/*`;
  return prefix + joined || '/';
}

/** The placeholder a path glob starts with, if any. */
export function leadingPlaceholder(glob: string): PathPlaceholder | undefined {
  for (const name of PATH_PLACEHOLDERS) {
    if (glob.startsWith(`{${name}}`)) return name;
  }
  return undefined;
}

/** e.g. `tool: web_fetch (max_invocations: 3, expires_at: 2026-05-01T10:00:00.000Z)` */
export function formatGrant(grant: CapabilityGrant): string {
  const parts: string[] = [];
  if (grant.constraints.max_invocations !== undefined)
    parts.push(`max_invocations: ${grant.constraints.max_invocations}`);
  if (grant.constraints.expires_at !== undefined) {
    parts.push(`expires_at: ${new Date(grant.constraints.expires_at).toISOString()}`);
  }
  const base = formatCapability(grant.capability);
  return parts.length > 0 ? `${base} (${parts.join(', ')})` : base;
}
