/** Byte and count caps of the file tools (one place, so tests and docs agree). */
export const MAX_FILE_BYTES = 1024 * 1024;
export const DEFAULT_READ_LIMIT = 2000;
export const LIST_MAX_ENTRIES = 500;
export const READ_MANY_MAX_PATHS = 16;
export const SEARCH_DEFAULT_RESULTS = 100;
export const SEARCH_MAX_RESULTS = 200;
export const SEARCH_LINE_CHARS = 512;
/** a search stops (truncated) after this many files, so a huge tree cannot pin a pool thread */
export const SEARCH_MAX_FILES = 20_000;
/** a runaway regular expression is cut off by terminating its pool thread (AAOS_SEARCH_TIMEOUT_MS) */
export const SEARCH_TIMEOUT_MS = 30_000;
/** search pool threads (AAOS_SEARCH_THREADS); each runs one search at a time */
export const SEARCH_THREADS = 2;
/** searches one agent runs at once; its others wait, so it cannot take every thread */
export const SEARCH_PER_AGENT = 1;
