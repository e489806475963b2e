import { z } from 'zod';
import { AaosError, ErrorCode, fromPlainError } from '../../errors/index.js';
import { defineTool, type Tool } from '../tool.js';
import { TaskPool } from './io-pool.js';
import { KeyedLimiter } from './keyed-limiter.js';
import {
  MAX_FILE_BYTES,
  SEARCH_DEFAULT_RESULTS,
  SEARCH_LINE_CHARS,
  SEARCH_MAX_FILES,
  SEARCH_MAX_RESULTS,
  SEARCH_PER_AGENT,
  SEARCH_THREADS,
  SEARCH_TIMEOUT_MS,
} from './limits.js';
import type { SearchMatch, SearchTask, SearchTaskResult } from './search-task.js';
import { absolutePath, resolveSafePath } from './safe-path.js';

const FileSearchInput = z.object({
  path: z.string().min(1).describe('absolute path of the directory to search (recursively)'),
  pattern: z.string().min(1).max(1000).describe('JavaScript regular expression, matched per line'),
  max_results: z.number().int().min(1).max(SEARCH_MAX_RESULTS).optional().describe(`default ${SEARCH_DEFAULT_RESULTS}`),
});

interface FileSearchResult {
  path: string;
  matches: SearchMatch[];
  truncated: boolean;
  files_scanned: number;
}

const SEARCH_TASK_MODULE = 'src/tools/fs/search-task.js';

/**
 * The request that stands for "read everything below `dir`": `<dir>/*`. Only a subtree
 * grant whose base contains `dir` covers it; an exact grant on the directory does not,
 * so a search never reads file contents the grant does not reach.
 */
function subtreeRequestPath(dir: string): string {
  return dir === '/' ? '/*' : `${dir}/*`;
}

export interface FileSearchOptions {
  /** wall time a call may take, waiting included; then its pool thread is terminated */
  timeoutMs?: number;
  /** pool threads for searches, each running one search at a time */
  threads?: number;
}

export function createFileSearchTool(options: FileSearchOptions = {}): Tool {
  const timeoutMs = options.timeoutMs ?? SEARCH_TIMEOUT_MS;
  // a search is CPU-bound: one per thread, in a pool of its own, so reads never queue behind one
  const pool = new TaskPool({ maxThreads: options.threads ?? SEARCH_THREADS, concurrentTasksPerWorker: 1 });
  // and one agent cannot hold every search thread
  const lanes = new KeyedLimiter(SEARCH_PER_AGENT);
  return defineTool({
    name: 'file_search',
    idempotent: true,
    description:
      `Search the UTF-8 text files under a directory (recursively, symbolic links never followed) for a JavaScript ` +
      `regular expression, line by line. Returns {file, line, text} matches, at most ${SEARCH_MAX_RESULTS}. ` +
      `A search that takes longer than ${timeoutMs} ms is stopped with an error.`,
    input: FileSearchInput,
    async run(input, ctx): Promise<FileSearchResult> {
      const path = absolutePath(input.path);
      try {
        new RegExp(input.pattern);
      } catch (err) {
        throw new AaosError(
          ErrorCode.TOOL_INPUT_INVALID,
          `invalid input for tool 'file_search': pattern: ${err instanceof Error ? err.message : String(err)}`,
          { tool: 'file_search', field: 'pattern' },
        );
      }
      ctx.authorize({ kind: 'file_read', path: subtreeRequestPath(path) });
      const target = await resolveSafePath(path);
      if (target.leaf === undefined)
        throw new AaosError(ErrorCode.PATH_NOT_FOUND, `cannot search '${path}': no such directory`, { path });
      if (target.leaf.kind !== 'dir') {
        throw new AaosError(ErrorCode.PATH_INVALID, `cannot search '${path}': not a directory`, {
          path,
          kind: target.leaf.kind,
        });
      }
      const task: SearchTask = {
        root: path,
        identity: target.leaf.identity,
        source: input.pattern,
        flags: '',
        maxResults: input.max_results ?? SEARCH_DEFAULT_RESULTS,
        maxFileBytes: MAX_FILE_BYTES,
        maxFiles: SEARCH_MAX_FILES,
        lineChars: SEARCH_LINE_CHARS,
      };
      // a plain controller the timer holds strongly: a composite signal can be collected
      // before its timeout fires, and then nothing ever stops the search
      const deadline = new AbortController();
      const timer = setTimeout(() => deadline.abort(), timeoutMs);
      const cancel = (): void => deadline.abort(ctx.signal.reason);
      if (ctx.signal.aborted) cancel();
      else ctx.signal.addEventListener('abort', cancel, { once: true });
      let release: (() => void) | undefined;
      let result: SearchTaskResult;
      try {
        release = await lanes.acquire(ctx.call.id, deadline.signal);
        result = await pool.run<SearchTaskResult>(SEARCH_TASK_MODULE, 'searchTask', task, deadline.signal);
      } catch (err) {
        if (ctx.signal.aborted)
          throw new AaosError(ErrorCode.CANCELLED, `file_search in '${path}' was cancelled`, { path }, { cause: err });
        if (deadline.signal.aborted) {
          throw new AaosError(
            ErrorCode.TOOL_TIMEOUT,
            `file_search in '${path}' was stopped after ${timeoutMs} ms (AAOS_SEARCH_TIMEOUT_MS); narrow the directory or simplify the pattern`,
            { tool: 'file_search', path, timeout_ms: timeoutMs },
            { cause: err },
          );
        }
        throw err;
      } finally {
        clearTimeout(timer);
        ctx.signal.removeEventListener('abort', cancel);
        release?.();
      }
      if (!result.ok) throw fromPlainError(result.error);
      return { path, matches: result.matches, truncated: result.truncated, files_scanned: result.files_scanned };
    },
  });
}
