import { chmodSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { AaosError, ErrorCode } from '../errors/index.js';
import { refuseSharedDir } from '../store/private-files.js';

/** Unix socket paths are limited to ~107 bytes (sun_path); fail early with a clear message. */
const MAX_SOCKET_PATH = 104;

/** Resolves true when something accepts a connection on the socket. */
function probeSocket(path: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ path });
    const done = (alive: boolean): void => {
      clearTimeout(timer);
      sock.removeAllListeners();
      sock.on('error', () => {});
      sock.destroy();
      resolve(alive);
    };
    // a listener that does not accept in time counts as alive: never delete a socket we are unsure of
    const timer = setTimeout(() => done(true), timeoutMs);
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/**
 * Makes `path` ready to listen on: creates its directory (0750), refuses a directory other
 * users can write to (UNSAFE_PERMISSIONS), refuses a socket a
 * live daemon answers on (DAEMON_ALREADY_RUNNING), and removes a stale one.
 */
export async function prepareSocketPath(path: string): Promise<void> {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
    throw new AaosError(
      ErrorCode.CONFIG_INVALID,
      `socket path is too long (${Buffer.byteLength(path)} bytes, at most ${MAX_SOCKET_PATH}): ${path}`,
      {
        field: 'socket',
        path,
      },
    );
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o750 });
  refuseSharedDir(dirname(path), `socket ${path}`);
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // nothing there
  }
  if (!isSocket) {
    throw new AaosError(ErrorCode.CONFIG_INVALID, `${path} exists and is not a socket; refusing to replace it`, {
      field: 'socket',
      path,
    });
  }
  if (await probeSocket(path)) {
    throw new AaosError(
      ErrorCode.DAEMON_ALREADY_RUNNING,
      `another agentd is already listening on ${path}; stop it first (agentd health --socket ${path} shows it)`,
      { path },
    );
  }
  unlinkSync(path);
}

/** Owner and group may connect; others may not (mode 0660). */
export function restrictSocket(path: string): void {
  chmodSync(path, 0o660);
}

/** Removes the socket file if it is still there; never throws. */
export function removeSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // already gone
  }
}
