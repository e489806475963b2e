import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, expect } from 'vitest';

/** Helpers for tests that run the BUILT daemon (`npx tsc -p .` first) as a child process. */

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const AGENTD = join(ROOT, 'dist', 'src', 'cli', 'agentd.js');
export const BOOTSTRAP = join(ROOT, 'manifests', 'bootstrap.yaml');

/** A short temp dir (socket paths must stay under ~100 bytes) with the demo inbox copied in. */
export function tempDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'aaos-'));
  mkdirSync(join(dir, 'inbox'));
  cpSync(join(ROOT, 'manifests', 'demo', 'inbox'), join(dir, 'inbox'), { recursive: true });
  return dir;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface DaemonProcess {
  child: ChildProcess;
  socket: string;
  dataDir: string;
  stderr(): string;
  /** resolves with the exit code (signal exits give null) */
  exited: Promise<number | null>;
  /** SIGTERM, then the exit code */
  stop(): Promise<number | null>;
}

/** Starts `agentd run`; resolves once it logs that it listens (or rejects with its stderr when it exits first). */
export async function startDaemon(opts: {
  dataDir: string;
  socket?: string;
  bootstrap?: string | null;
  env?: NodeJS.ProcessEnv;
  args?: string[];
}): Promise<DaemonProcess> {
  const socket = opts.socket ?? join(opts.dataDir, 'run', 'agentd.sock');
  const args = [
    AGENTD,
    'run',
    '--data-dir',
    opts.dataDir,
    '--socket',
    socket,
    ...(opts.bootstrap === null ? ['--no-bootstrap'] : ['--bootstrap', opts.bootstrap ?? BOOTSTRAP]),
    ...(opts.args ?? []),
  ];
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...opts.env },
  });
  let err = '';
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  await new Promise<void>((resolveReady, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('listening on')) resolveReady();
    });
    void exited.then((code) => reject(new Error(`agentd exited with ${code} before listening:\n${err}`)));
  });
  return {
    child,
    socket,
    dataDir: opts.dataDir,
    stderr: () => err,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** A plain JSON-RPC client on a net.Socket: raw writes, and every line the daemon sends, parsed. */
export class RawClient {
  readonly lines: unknown[] = [];
  private waiters: Array<() => void> = [];
  closed = false;
  private nextId = 1;

  private constructor(readonly sock: Socket) {
    createInterface({ input: sock })
      .on('line', (line) => {
        this.lines.push(JSON.parse(line));
        this.wake();
      })
      // readline re-emits the socket's errors (a reset by a daemon that died): 'close' follows
      .on('error', () => {});
    sock.on('error', () => {});
    sock.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static open(path: string): Promise<RawClient> {
    return new Promise((res, rej) => {
      const sock = connect({ path });
      sock.once('connect', () => res(new RawClient(sock)));
      sock.once('error', rej);
    });
  }

  write(text: string | Buffer): void {
    this.sock.write(text);
  }

  /** Sends a request; returns its id. */
  send(method: string, params?: unknown): number {
    const id = this.nextId++;
    this.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) })}\n`);
    return id;
  }

  /** Waits for the first line (already received or future) that matches. */
  async waitFor<T = Record<string, unknown>>(
    match: (m: Record<string, unknown>) => boolean,
    what = 'a matching line',
  ): Promise<T> {
    for (;;) {
      const hit = this.lines.find((l) => match(l as Record<string, unknown>));
      if (hit) return hit as T;
      if (this.closed)
        throw new Error(`connection closed before ${what}; got ${JSON.stringify(this.lines).slice(0, 2000)}`);
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  response<T = Record<string, unknown>>(id: unknown): Promise<T> {
    return this.waitFor<T>((m) => m['jsonrpc'] === '2.0' && m['id'] === id, `the response to ${String(id)}`);
  }

  /** Calls and returns the result; throws with the error object otherwise. */
  async call<T = Record<string, unknown>>(method: string, params?: unknown): Promise<T> {
    const res = await this.response<{ result?: T; error?: unknown }>(this.send(method, params));
    if (res.error) throw new Error(`${method} failed: ${JSON.stringify(res.error)}`);
    return res.result as T;
  }

  waitClosed(): Promise<void> {
    return this.closed ? Promise.resolve() : new Promise((r) => this.sock.once('close', () => r()));
  }

  close(): void {
    this.sock.destroy();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

/** Every frame of a stream (by its opening request id), up to and including the end frame. */
export async function streamToEnd(
  client: RawClient,
  id: number,
): Promise<{ events: Array<Record<string, unknown>>; end: Record<string, unknown> }> {
  const end = await client.waitFor((m) => m['kind'] === 'end' && m['stream'] === id, `the end frame of stream ${id}`);
  const events = client.lines
    .map((l) => l as Record<string, unknown>)
    .filter((m) => m['kind'] === 'event' && m['stream'] === id)
    .map((m) => m['event'] as Record<string, unknown>);
  return { events, end };
}

/** An agent that writes whatever path its message names, and reports what the tool said. */
export function writerManifest(dir: string): string {
  writeFileSync(
    join(dir, 'writer-script.yaml'),
    [
      'cursor: per_run',
      'turns:',
      '  - tool_calls: [{ name: file_write, input: { path: "{message}", content: "written after approval" } }]',
      '  - text: "tool said: {last_tool_result}"',
    ].join('\n'),
  );
  return [
    'name: careful-writer',
    `model: scripted:${join(dir, 'writer-script.yaml')}`,
    'lifecycle: persistent',
    'capabilities:',
    '  - "tool: file_write"',
    `  - "file_write: ${dir}/out/*"`,
    'approval_required: [file_write]',
  ].join('\n');
}

/**
 * A daemon for one describe block: started before its tests on a fresh data dir, stopped
 * (expecting exit 0) and removed after. Read `.current` inside the tests.
 */
export function useDaemon(opts: { bootstrap?: string | null; env?: NodeJS.ProcessEnv } = {}): {
  current: DaemonProcess;
} {
  const holder = { current: undefined as unknown as DaemonProcess };
  let dir = '';
  beforeAll(async () => {
    dir = tempDataDir();
    holder.current = await startDaemon({ dataDir: dir, ...opts });
  });
  afterAll(async () => {
    expect(await holder.current.stop()).toBe(0);
    removeDir(dir);
  });
  return holder;
}
