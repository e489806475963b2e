import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument } from 'yaml';
import type { Document } from 'yaml';
import type { z } from 'zod';
import { parseContextWindow } from '../context/context-window.js';
import { AaosError, ErrorCode } from '../errors/index.js';
import { parseCapabilityEntry } from './capability-string.js';
import { formatIssue } from './issue.js';
import type { ManifestIssue } from './issue.js';
import { type AgentManifest, KNOWN_FIELDS, ManifestInput } from './schema.js';
import type { ManifestCapability } from './schema.js';
import { closestMatch } from './suggest.js';
import { formatFieldPath, offsetOfPath, pathAtOffset, positionOf } from './yaml-location.js';
import type { FieldPath } from './yaml-location.js';

export interface ParseManifestOptions {
  /** shown in errors; also the base for relative paths unless `baseDir` is given */
  file?: string;
  /** directory that `system_prompt: {file}` and `scripted:` paths resolve against */
  baseDir?: string;
  /**
   * Called with every file the manifest names (absolute path, field), before anything
   * touches that file; throws to refuse. Manifests written by agents get one that checks
   * the parent's `file_read`; operator manifests get none.
   */
  authorizeFile?: ManifestFileCheck;
}

/**
 * Refuses (by throwing) a file a manifest names; `field` is e.g. `system_prompt.file` or
 * `model`. A check that opened the file itself returns what it found, and the parser uses
 * that instead of reading the path again (a racing process could swap it in between);
 * `undefined` leaves the reading to the parser (a trusted prompts root).
 */
export type ManifestFileCheck = (path: string, field: string) => CheckedFile | undefined;

/** The text of a checked file, or why there is none (`not found`, `is not a regular file`, ...). */
export type CheckedFile = { text: string } | { problem: string };

/** Every file a parsed manifest refers to, with the field that names it (one list, so a new kind is checked everywhere). */
export function manifestFiles(
  manifest: Pick<AgentManifest, 'model' | 'system_prompt_file'> & {
    memory: Pick<AgentManifest['memory'], 'summarization_model'>;
  },
): { path: string; field: string }[] {
  const out: { path: string; field: string }[] = [];
  if (manifest.system_prompt_file !== undefined)
    out.push({ path: manifest.system_prompt_file, field: 'system_prompt.file' });
  for (const [field, model] of modelFields(manifest)) {
    if (model.startsWith(SCRIPTED_PREFIX)) out.push({ path: model.slice(SCRIPTED_PREFIX.length), field });
  }
  return out;
}

/** Every field that names a model (a `scripted:` model is a file). */
function modelFields(manifest: {
  model: string;
  memory: { summarization_model?: string | undefined };
}): [string, string][] {
  const out: [string, string][] = [['model', manifest.model]];
  if (manifest.memory.summarization_model !== undefined)
    out.push(['memory.summarization_model', manifest.memory.summarization_model]);
  return out;
}

const INLINE_MANIFEST = '<inline>';
/** Manifests and prompt files are small; a cap keeps a bad path from loading a huge file. */
export const MAX_MANIFEST_BYTES = 1024 * 1024;
export const MAX_PROMPT_BYTES = 1024 * 1024;

const SCRIPTED_PREFIX = 'scripted:';

type IssueKind = 'invalid' | 'not_found';

/** Collects located issues for one manifest; `throwIfAny` turns them into one AaosError. */
export class IssueCollector {
  readonly issues: (ManifestIssue & { kind: IssueKind; path?: string })[] = [];

  constructor(
    private readonly file: string,
    private readonly doc: Document,
    private readonly lineCounter: LineCounter,
    private readonly code: ErrorCode = ErrorCode.MANIFEST_INVALID,
  ) {}

  at(fieldPath: FieldPath, message: string, options: { atKey?: boolean; kind?: IssueKind; path?: string } = {}): void {
    const { line, column } = positionOf(this.lineCounter, offsetOfPath(this.doc, fieldPath, options.atKey));
    this.push(line, column, formatFieldPath(fieldPath), message, options.kind ?? 'invalid', options.path);
  }

  atOffset(offset: number, field: string, message: string): void {
    const { line, column } = positionOf(this.lineCounter, offset);
    this.push(line, column, field, message, 'invalid');
  }

  private push(line: number, column: number, field: string, message: string, kind: IssueKind, filePath?: string): void {
    const issue: ManifestIssue & { kind: IssueKind; path?: string } = {
      file: this.file,
      line,
      column,
      field,
      message,
      kind,
    };
    if (filePath !== undefined) issue.path = filePath;
    this.issues.push(issue);
  }

  throwIfAny(): void {
    if (this.issues.length === 0) return;
    const sorted = [...this.issues].sort((a, b) => a.line - b.line || a.column - b.column);
    const plain: ManifestIssue[] = sorted.map(({ file, line, column, field, message }) => ({
      file,
      line,
      column,
      field,
      message,
    }));
    const message = plain.map(formatIssue).join('\n');
    // only a missing prompt file, nothing else wrong: report it as "not found"
    if (sorted.every((issue) => issue.kind === 'not_found')) {
      const missing = sorted.map((issue) => issue.path).filter((p): p is string => p !== undefined);
      throw new AaosError(ErrorCode.MANIFEST_NOT_FOUND, message, { file: this.file, path: missing[0], issues: plain });
    }
    throw new AaosError(this.code, message, { file: this.file, issues: plain });
  }
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (ArrayBuffer.isView(value)) return 'binary data';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `'${value.length > 40 ? `${value.slice(0, 40)}…` : value}'`;
  return String(value);
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
};

function typeName(expected: string): string {
  return TYPE_NAMES[expected] ?? expected;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const input = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case 'invalid_type':
      if (input === undefined) return 'required field is missing';
      return `expected ${typeName(issue.expected)}, got ${describeValue(input)}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => `'${String(v)}'`).join(', ')}, got ${describeValue(input)}`;
    case 'too_small': {
      if (issue.origin === 'string') return 'must not be empty';
      if (issue.origin === 'array') return `must have at least ${String(issue.minimum)} entries`;
      const bound = issue.inclusive ? `at least ${String(issue.minimum)}` : `greater than ${String(issue.minimum)}`;
      return `must be ${bound}, got ${describeValue(input)}`;
    }
    case 'too_big': {
      if (issue.origin === 'string') return `must be at most ${String(issue.maximum)} characters`;
      const bound = issue.inclusive ? `at most ${String(issue.maximum)}` : `less than ${String(issue.maximum)}`;
      return `must be ${bound}, got ${describeValue(input)}`;
    }
    case 'invalid_format':
      return `${issue.message}, got ${describeValue(input)}`;
    default:
      return issue.message;
  }
}

function isRootTypeMismatch(branch: readonly z.core.$ZodIssue[]): boolean {
  const only = branch[0];
  return branch.length === 1 && only !== undefined && only.code === 'invalid_type' && only.path.length === 0;
}

/** A zod issue with its absolute path; unions are resolved to the branch that matters. */
interface FlatIssue {
  path: (string | number)[];
  issue: z.core.$ZodIssue;
  /** a message computed while flattening (a union type mismatch) */
  message?: string;
}

function flattenIssues(issues: readonly z.core.$ZodIssue[], prefix: FieldPath = []): FlatIssue[] {
  const out: FlatIssue[] = [];
  for (const issue of issues) {
    const fieldPath = [...prefix, ...issue.path.map((p) => (typeof p === 'number' ? p : String(p)))];
    if (issue.code === 'invalid_union') {
      // a union fails in every branch; report the branch that got past the type check, if one did
      const deep = issue.errors.filter((branch) => !isRootTypeMismatch(branch));
      const [only] = deep;
      if (deep.length === 1 && only !== undefined) {
        out.push(...flattenIssues(only, fieldPath));
        continue;
      }
      const expected = issue.errors
        .map((branch) => branch[0])
        .filter((first): first is z.core.$ZodIssueInvalidType => first?.code === 'invalid_type')
        .map((first) => typeName(first.expected));
      const input = (issue as { input?: unknown }).input;
      if (expected.length > 0 && input !== undefined) {
        out.push({
          path: fieldPath,
          issue,
          message: `expected ${[...new Set(expected)].join(' or ')}, got ${describeValue(input)}`,
        });
        continue;
      }
    }
    out.push({ path: fieldPath, issue });
  }
  return out;
}

export function addZodIssues(
  collector: IssueCollector,
  issues: readonly z.core.$ZodIssue[],
  knownFields: Readonly<Record<string, readonly string[]>> = KNOWN_FIELDS,
): void {
  const flat = flattenIssues(issues);
  // `fiel: x` is reported as "did you mean 'file'", so "file is missing" would only repeat it
  const hinted = new Set<string>();
  for (const { path: fieldPath, issue } of flat) {
    if (issue.code !== 'unrecognized_keys') continue;
    const known = knownFields[fieldPath.join('.')] ?? [];
    for (const key of issue.keys) {
      const hint = closestMatch(key, known);
      if (hint !== undefined) hinted.add([...fieldPath, hint].join('.'));
    }
  }
  for (const { path: fieldPath, issue, message } of flat) {
    if (issue.code === 'unrecognized_keys') {
      const known = knownFields[fieldPath.join('.')] ?? [];
      for (const key of issue.keys) {
        const hint = closestMatch(key, known);
        const suffix =
          hint !== undefined ? ` (did you mean '${hint}'?)` : known.length > 0 ? ` (known: ${known.join(', ')})` : '';
        collector.at([...fieldPath, key], `unknown field '${key}'${suffix}`, { atKey: true });
      }
      continue;
    }
    const missing = issue.code === 'invalid_type' && (issue as { input?: unknown }).input === undefined;
    if (missing && hinted.has(fieldPath.join('.'))) continue;
    collector.at(fieldPath, message ?? describeIssue(issue));
  }
}

function parseCapabilities(
  collector: IssueCollector,
  doc: Document,
  lineCounter: LineCounter,
  raw: unknown,
): ManifestCapability[] {
  if (!Array.isArray(raw)) return [];
  const result: ManifestCapability[] = [];
  raw.forEach((entry, index) => {
    try {
      const capability = parseCapabilityEntry(entry);
      const { line, column } = positionOf(lineCounter, offsetOfPath(doc, ['capabilities', index]));
      result.push({ ...capability, line, column });
    } catch (err) {
      if (!(err instanceof AaosError)) throw err;
      const sub = err.details?.['path'];
      const subPath = Array.isArray(sub) ? (sub as (string | number)[]) : [];
      collector.at(['capabilities', index, ...subPath], err.message, { atKey: err.details?.['at_key'] === true });
    }
  });
  return result;
}

interface PromptResult {
  text: string;
  file?: string;
}

function readSystemPrompt(
  collector: IssueCollector,
  raw: unknown,
  baseDir: string,
  authorizeFile: ManifestFileCheck | undefined,
): PromptResult {
  if (typeof raw === 'string') return { text: raw };
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return { text: '' };
  const file = (raw as Record<string, unknown>)['file'];
  if (typeof file !== 'string' || file.trim() === '') return { text: '' };
  const resolved = path.resolve(baseDir, file.trim());
  const field = ['system_prompt', 'file'];
  // before any stat: a refusal must not tell whether the file exists
  const checked = authorizeFile?.(resolved, 'system_prompt.file');
  if (checked !== undefined) {
    if ('text' in checked) return { text: checked.text, file: resolved };
    collector.at(field, `system_prompt file ${checked.problem}: ${resolved}`, { kind: 'not_found', path: resolved });
    return { text: '' };
  }
  try {
    const info = statSync(resolved);
    if (!info.isFile()) {
      collector.at(field, `system_prompt file is not a regular file: ${resolved}`, {
        kind: 'not_found',
        path: resolved,
      });
      return { text: '' };
    }
    if (info.size > MAX_PROMPT_BYTES) {
      collector.at(field, `system_prompt file is larger than ${MAX_PROMPT_BYTES} bytes: ${resolved}`);
      return { text: '' };
    }
    return { text: readFileSync(resolved, 'utf8'), file: resolved };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'not found' : `cannot be read (${code ?? String(err)})`;
    collector.at(field, `system_prompt file ${reason}: ${resolved}`, { kind: 'not_found', path: resolved });
    return { text: '' };
  }
}

/** `scripted:<relative path>` becomes `scripted:<absolute path>`; other models pass through. */
function resolveModel(
  collector: IssueCollector,
  model: string,
  baseDir: string,
  authorizeFile: ManifestFileCheck | undefined,
  field: FieldPath = ['model'],
): string {
  if (!model.startsWith(SCRIPTED_PREFIX)) return model;
  const scriptPath = model.slice(SCRIPTED_PREFIX.length).trim();
  if (scriptPath === '') {
    collector.at(field, "'scripted:' needs a script path, e.g. scripted:scripts/hello.yaml");
    return model;
  }
  const resolved = path.resolve(baseDir, scriptPath);
  if (authorizeFile) {
    const checked = authorizeFile(resolved, formatFieldPath(field));
    if (checked !== undefined && 'problem' in checked)
      collector.at(field, `scripted model file ${checked.problem}: ${resolved}`, { kind: 'not_found', path: resolved });
    return `${SCRIPTED_PREFIX}${resolved}`;
  }
  return `${SCRIPTED_PREFIX}${resolved}`;
}

function yamlErrorMessage(
  doc: Document,
  error: { name: string; code: string; message: string },
  offset: number,
): string {
  if (error.code === 'DUPLICATE_KEY') {
    const field = pathAtOffset(doc, offset);
    const key = field[field.length - 1];
    return key === undefined ? 'duplicate key' : `duplicate key '${String(key)}'`;
  }
  if (error.code === 'MULTIPLE_DOCS') return 'a manifest is one YAML document; remove the extra ---';
  if (error.name === 'YAMLWarning') return `YAML: ${error.message}`;
  return `YAML syntax error: ${error.message}`;
}

function tooLarge(file: string): AaosError {
  const issue: ManifestIssue = {
    file,
    line: 1,
    column: 1,
    field: '(root)',
    message: `manifest is larger than ${MAX_MANIFEST_BYTES} bytes`,
  };
  return new AaosError(ErrorCode.MANIFEST_INVALID, formatIssue(issue), { file, issues: [issue] });
}

/**
 * One YAML document that must be a mapping, parsed strictly (YAML 1.2, unique keys,
 * warnings are errors, alias cap). Problems are thrown located, with `code`.
 */
export function readYamlMapping(
  text: string,
  file: string,
  emptyMessage: string,
  what: string,
  code: ErrorCode = ErrorCode.MANIFEST_INVALID,
): { doc: Document; lineCounter: LineCounter; collector: IssueCollector; raw: Record<string, unknown> } {
  const lineCounter = new LineCounter();
  // YAML 1.2: `on`/`yes` stay strings; unique keys: a repeated key is an error, not "last wins"
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, version: '1.2' });
  const collector = new IssueCollector(file, doc, lineCounter, code);

  // warnings (an unknown !tag, say) are errors too: a manifest should mean exactly what it says
  const yamlProblems = [...doc.errors, ...doc.warnings];
  if (yamlProblems.length > 0) {
    for (const error of yamlProblems) {
      const offset = error.pos[0];
      const fieldPath = error.code === 'MULTIPLE_DOCS' ? [] : pathAtOffset(doc, offset, error.code !== 'DUPLICATE_KEY');
      const field = formatFieldPath(fieldPath);
      collector.atOffset(offset, field, yamlErrorMessage(doc, error, offset));
    }
    collector.throwIfAny();
  }
  const contents = doc.contents;
  if (contents === null || (isScalar(contents) && (contents.value === null || contents.value === ''))) {
    collector.at([], emptyMessage);
    collector.throwIfAny();
  }
  if (!isMap(contents)) {
    collector.at([], `expected a mapping of ${what} at the top level, got ${describeValue(doc.toJS())}`);
    collector.throwIfAny();
  }

  let raw: Record<string, unknown>;
  try {
    // the alias cap stops "billion laughs" documents from expanding without bound
    raw = doc.toJS({ maxAliasCount: 100 }) as Record<string, unknown>;
  } catch (err) {
    collector.at([], `YAML error: ${err instanceof Error ? err.message : String(err)}`);
    collector.throwIfAny();
    throw err;
  }
  return { doc, lineCounter, collector, raw };
}

/**
 * Parses and validates manifest YAML. Every problem is collected and located (file,
 * line, column, field); they are thrown together as one AaosError(MANIFEST_INVALID)
 * with `details.issues`, or MANIFEST_NOT_FOUND when the only problem is an unreadable
 * `system_prompt: {file}`.
 */
export function parseManifest(text: string, options: ParseManifestOptions = {}): AgentManifest {
  const file = options.file ?? INLINE_MANIFEST;
  const baseDir = path.resolve(
    options.baseDir ?? (options.file !== undefined ? path.dirname(path.resolve(options.file)) : process.cwd()),
  );
  // checked before parsing: inline manifests come from models (spawn_agent) as well as people
  if (Buffer.byteLength(text, 'utf8') > MAX_MANIFEST_BYTES) throw tooLarge(file);
  const { doc, lineCounter, collector, raw } = readYamlMapping(
    text,
    file,
    'manifest is empty (expected at least name and model)',
    'manifest fields',
  );
  const parsed = ManifestInput.safeParse(raw, { reportInput: true });
  if (!parsed.success) {
    addZodIssues(collector, parsed.error.issues);
  }
  const capabilities = parseCapabilities(collector, doc, lineCounter, raw['capabilities']);
  const prompt = readSystemPrompt(collector, raw['system_prompt'], baseDir, options.authorizeFile);
  const model = parsed.success ? resolveModel(collector, parsed.data.model, baseDir, options.authorizeFile) : '';
  // the summariser is a model too: a `scripted:` one is a file, checked like `model`
  const summarizer = parsed.data?.memory.summarization_model;
  const summarizationModel =
    summarizer === undefined
      ? undefined
      : resolveModel(collector, summarizer, baseDir, options.authorizeFile, ['memory', 'summarization_model']);
  collector.throwIfAny();
  if (!parsed.success) throw new AaosError(ErrorCode.INTERNAL, 'manifest failed validation without issues');

  const input = parsed.data;
  const contextWindow = String(input.memory.context_window).trim();
  const manifest: AgentManifest = {
    name: input.name,
    model,
    system_prompt: prompt.text,
    capabilities,
    lifecycle: input.lifecycle,
    approval_required: [...new Set(input.approval_required)],
    memory: {
      ...input.memory,
      ...(summarizationModel !== undefined ? { summarization_model: summarizationModel } : {}),
      context_window: contextWindow,
      context_window_tokens: parseContextWindow(contextWindow),
    },
    metadata: input.metadata,
    limits: input.limits,
    source: { file, base_dir: baseDir },
  };
  if (prompt.file !== undefined) manifest.system_prompt_file = prompt.file;
  if (input.budget_config !== undefined) manifest.budget_config = input.budget_config;
  return manifest;
}

/** Reads and parses a manifest file; relative paths in it resolve against its directory. */
/**
 * The text of a manifest file. Missing, unreadable, a directory or too large: MANIFEST_NOT_FOUND
 * naming the path as given and as resolved, never a bare ENOENT.
 */
export function readManifestSource(filePath: string): { text: string; resolved: string } {
  const resolved = path.resolve(filePath);
  try {
    const info = statSync(resolved);
    if (!info.isFile()) {
      throw new AaosError(
        ErrorCode.MANIFEST_NOT_FOUND,
        `${filePath}: manifest is not a regular file (${info.isDirectory() ? 'a directory' : 'not a file'}): ${resolved}`,
        {
          file: filePath,
          path: resolved,
        },
      );
    }
    if (info.size > MAX_MANIFEST_BYTES) throw tooLarge(filePath);
    return { text: readFileSync(resolved, 'utf8'), resolved };
  } catch (err) {
    if (err instanceof AaosError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'manifest not found'
        : code === 'EACCES'
          ? 'manifest not readable (permission denied)'
          : `cannot read manifest (${code ?? String(err)})`;
    throw new AaosError(
      ErrorCode.MANIFEST_NOT_FOUND,
      `${filePath}: ${reason}: ${resolved}`,
      { file: filePath, path: resolved },
      { cause: err },
    );
  }
}

export async function loadManifestFile(filePath: string): Promise<AgentManifest> {
  const { text, resolved } = readManifestSource(filePath);
  return parseManifest(text, { file: filePath, baseDir: path.dirname(resolved) });
}
