import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { AaosError, ErrorCode } from '../errors/index.js';

/** An error answer from the daemon: the JSON-RPC code plus the AAOS_ERR_* code when there is one. */
export class RemoteError extends Error {
  override readonly name = 'RemoteError';
  constructor(
    readonly rpcCode: number,
    message: string,
    readonly code: string | undefined,
    readonly data: unknown,
  ) {
    super(message);
  }
}

/** A line of a stream, after the method's response (see docs/api.md). */
export interface StreamFrame {
  kind: string;
  stream?: string | number | null;
  [key: string]: unknown;
}

export interface OpenStream<R> {
  /** the method's result (e.g. `{run_id, workspace}`) */
  result: R;
  /** the request id, which every frame of this stream carries as `stream` */
  id: number;
  /** resolves with the `end` frame, or undefined when the connection closed first */
  ended: Promise<StreamFrame | undefined>;
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

interface StreamSink {
  onFrame(frame: StreamFrame): void;
  end(frame: StreamFrame | undefined): void;
}

/**
 * A JSON-RPC client for the daemon socket: many calls on one connection, answers
 * matched by id, stream frames routed by their `stream` id.
 */
export class DaemonClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly streams = new Map<string, StreamSink>();
  private closedError: Error | undefined;
  /** what ended the connection (EPIPE, ECONNRESET…), when an error did */
  private socketError: string | undefined;
  private closeWaiters: Array<() => void> = [];

  private constructor(
    private readonly socket: Socket,
    readonly socketPath: string,
  ) {
    const rl = createInterface({ input: socket, crlfDelay: Infinity });
    rl.on('line', (line) => this.onLine(line));
    // readline re-emits the socket's errors: without a listener an EPIPE or reset is a crash
    rl.on('error', () => {});
    socket.on('error', (err: NodeJS.ErrnoException) => void (this.socketError ??= err.code ?? err.message));
    socket.on('close', () => this.onClose());
  }

  /** DAEMON_UNREACHABLE when nothing listens on the socket. */
  static connect(socketPath: string, timeoutMs = 3000): Promise<DaemonClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ path: socketPath });
      const fail = (reason: string): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(
          new AaosError(ErrorCode.DAEMON_UNREACHABLE, `no daemon answers on ${socketPath} (${reason})`, {
            socket: socketPath,
            reason,
          }),
        );
      };
      const timer = setTimeout(() => fail('timed out connecting'), timeoutMs);
      socket.once('error', (err: NodeJS.ErrnoException) => fail(err.code ?? err.message));
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new DaemonClient(socket, socketPath));
      });
    });
  }

  call<R = unknown>(method: string, params?: Record<string, unknown>): Promise<R> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = this.nextId++;
    return new Promise<R>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.socket.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, ...(params ? { params } : {}) })}\n`);
    });
  }

  /** Calls a streaming method; `onFrame` sees every frame (the end frame too). */
  async stream<R = unknown>(
    method: string,
    params: Record<string, unknown>,
    onFrame: (frame: StreamFrame) => void,
  ): Promise<OpenStream<R>> {
    // the id is known before the call so frames that follow the response are never missed
    const id = this.nextId;
    const key = String(id);
    let finish!: (frame: StreamFrame | undefined) => void;
    const ended = new Promise<StreamFrame | undefined>((r) => (finish = r));
    this.streams.set(key, {
      onFrame,
      end: (frame) => {
        this.streams.delete(key);
        finish(frame);
      },
    });
    try {
      const result = await this.call<R>(method, params);
      return { result, id, ended };
    } catch (err) {
      this.streams.delete(key);
      throw err;
    }
  }

  close(): void {
    this.socket.end();
    this.socket.destroy();
  }

  private onLine(line: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return; // not ours to interpret
    }
    if (msg['jsonrpc'] === '2.0') {
      const id = msg['id'];
      const waiter = typeof id === 'number' ? this.pending.get(id) : undefined;
      if (typeof id === 'number') this.pending.delete(id);
      if (!waiter) {
        if (id === null && msg['error']) this.failAll(remoteError(msg['error']));
        return;
      }
      if (msg['error']) waiter.reject(remoteError(msg['error']));
      else waiter.resolve(msg['result']);
      return;
    }
    if (typeof msg['kind'] === 'string') {
      const frame = msg as StreamFrame;
      const sink = this.streams.get(String(frame.stream));
      if (!sink) return;
      sink.onFrame(frame);
      if (frame.kind === 'end') sink.end(frame);
    }
  }

  private failAll(err: Error): void {
    for (const waiter of this.pending.values()) waiter.reject(err);
    this.pending.clear();
  }

  /** Resolves when the connection to the daemon ends (the daemon stopped, or close()). */
  whenClosed(): Promise<void> {
    if (this.closedError) return Promise.resolve();
    return new Promise((r) => this.closeWaiters.push(r));
  }

  private onClose(): void {
    const why = this.socketError ? ` (${this.socketError})` : '';
    this.closedError = new AaosError(
      ErrorCode.DAEMON_UNREACHABLE,
      `the connection to the daemon on ${this.socketPath} was closed${why}`,
      {
        socket: this.socketPath,
        closed: true,
        ...(this.socketError ? { reason: this.socketError } : {}),
      },
    );
    this.failAll(this.closedError);
    for (const sink of [...this.streams.values()]) sink.end(undefined);
    for (const wake of this.closeWaiters.splice(0)) wake();
  }
}

function remoteError(raw: unknown): RemoteError {
  const e = (raw ?? {}) as { code?: unknown; message?: unknown; data?: unknown };
  const data = e.data as { code?: unknown } | undefined;
  return new RemoteError(
    typeof e.code === 'number' ? e.code : -32603,
    typeof e.message === 'string' ? e.message : 'unknown error',
    typeof data?.code === 'string' ? data.code : undefined,
    e.data,
  );
}
