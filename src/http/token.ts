import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, closeSync, constants, fstatSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { AaosError, ErrorCode } from '../errors/index.js';

const HTTP_TOKEN_FILE = 'http-token';

/**
 * The HTTP listener's bearer token, kept in `<dataDir>/http-token` (mode 0600). Made once;
 * later starts reuse it, so a console URL or a Prometheus credentials file stays valid.
 * A file another user could read is tightened to 0600; one owned by someone else is refused.
 */
export function loadOrCreateHttpToken(dataDir: string): string {
  const path = join(dataDir, HTTP_TOKEN_FILE);
  try {
    const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    const token = randomBytes(32).toString('base64url');
    try {
      writeSync(fd, `${token}\n`);
    } finally {
      closeSync(fd);
    }
    return token;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new AaosError(
        ErrorCode.CONFIG_INVALID,
        `cannot create the HTTP token file ${path}: ${(err as Error).message}`,
        { file: path },
      );
    }
  }
  return readHttpToken(dataDir);
}

/** Reads an existing token (the `agentd console` side); checks owner and mode. */
export function readHttpToken(dataDir: string): string {
  const path = join(dataDir, HTTP_TOKEN_FILE);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    throw new AaosError(
      ErrorCode.CONFIG_INVALID,
      `cannot read the HTTP token file ${path}: ${(err as Error).message}`,
      { file: path },
    );
  }
  try {
    const st = fstatSync(fd);
    if (typeof process.getuid === 'function' && st.uid !== process.getuid()) {
      throw new AaosError(
        ErrorCode.CONFIG_INVALID,
        `${path} belongs to uid ${st.uid}, not to this user (${process.getuid()}); refusing to use it`,
        { file: path },
      );
    }
    if ((st.mode & 0o077) !== 0) chmodSync(path, 0o600);
    const token = readFileSync(fd, 'utf8').trim();
    if (token.length < 32)
      throw new AaosError(
        ErrorCode.CONFIG_INVALID,
        `${path} holds no usable token (shorter than 32 characters); delete it to make a new one`,
        { file: path },
      );
    return token;
  } finally {
    closeSync(fd);
  }
}

/** Constant-time comparison of a presented token with the real one. */
export function tokenMatches(presented: string | undefined, token: string): boolean {
  if (presented === undefined) return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
