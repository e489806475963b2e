import { createServer, type Server, type Socket } from 'node:net';
import { AaosError, ErrorCode } from '../errors/index.js';
import { Connection } from './connection.js';
import {
  errorResponse,
  resultResponse,
  RpcCode,
  RpcError,
  RpcRequest,
  salvageId,
  toRpcError,
  type RpcId,
} from './jsonrpc.js';
import { findMethod, type DaemonContext } from './methods.js';
import { prepareSocketPath, removeSocket, restrictSocket } from './socket-file.js';

export interface RpcServerOptions {
  socketPath: string;
  context: DaemonContext;
  /** connections served at once; one more is answered with TOO_MANY_CONNECTIONS and closed */
  maxConnections: number;
  /** an idle connection (no request or stream in flight) is closed after this long; 0 = never */
  idleMs: number;
  /** diagnostics (stderr); never sees request contents */
  log: (line: string) => void;
}

/**
 * The Unix-socket JSON-RPC 2.0 server: one JSON object per line, many requests per
 * connection, answered as they finish (match by id). Nothing a client sends can
 * throw out of here: every failure becomes an error response or a closed connection.
 */
export class RpcServer {
  private readonly connections = new Set<Connection>();
  private server: Server | undefined;
  private refused = 0;

  constructor(private readonly opts: RpcServerOptions) {}

  get socketPath(): string {
    return this.opts.socketPath;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** connections turned away because `maxConnections` were open */
  get refusedCount(): number {
    return this.refused;
  }

  /** Binds the socket (replacing a stale one; refusing if a daemon answers there). */
  async listen(): Promise<void> {
    const path = this.opts.socketPath;
    await prepareSocketPath(path);
    const server = createServer({ allowHalfOpen: true }, (socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // the socket is created with the umask applied: make it 0660 from the first moment
      const previous = process.umask(0o117);
      try {
        server.listen(path, () => {
          server.off('error', reject);
          resolve();
        });
      } finally {
        process.umask(previous);
      }
    }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') {
        throw new AaosError(ErrorCode.DAEMON_ALREADY_RUNNING, `another agentd is already listening on ${path}`, {
          path,
        });
      }
      throw err;
    });
    restrictSocket(path);
    server.on('error', (err) => this.opts.log(`agentd: socket server error: ${err.message}`));
    this.server = server;
  }

  /** Stops accepting connections; open ones stay until `closeConnections`. */
  stopAccepting(): Promise<void> {
    const server = this.server;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => {
      server.close(() => resolve());
      // close() waits for open connections; the caller ends those separately
      setImmediate(resolve);
    });
  }

  /** Ends every connection (streams get their end frames before this, if runs ended). */
  closeConnections(): void {
    for (const conn of [...this.connections]) conn.finish();
    for (const conn of [...this.connections]) setTimeout(() => conn.destroy(), 1000).unref();
  }

  /** Drops every connection at once (a forced stop that ran out of time). */
  destroyConnections(): void {
    for (const conn of [...this.connections]) conn.destroy();
  }

  removeSocketFile(): void {
    removeSocket(this.opts.socketPath);
  }

  private accept(socket: Socket): void {
    if (this.connections.size >= this.opts.maxConnections) {
      this.refuse(socket);
      return;
    }
    const conn = new Connection(socket, (c, line) => this.onLine(c, line), { idleMs: this.opts.idleMs });
    this.connections.add(conn);
    // counted until the descriptor is released, not merely until streams unsubscribe
    conn.onGone(() => this.connections.delete(conn));
  }

  /** Over the cap: one error line naming the limit, then the connection is closed. */
  private refuse(socket: Socket): void {
    this.refused += 1;
    const limit = this.opts.maxConnections;
    socket.on('error', () => {});
    // unread input would turn our close into a reset that can lose the error line
    socket.on('data', () => {});
    socket.end(
      `${JSON.stringify(
        errorResponse(
          null,
          toRpcError(
            new AaosError(
              ErrorCode.TOO_MANY_CONNECTIONS,
              `the daemon already serves ${limit} connections (AAOS_MAX_CONNECTIONS); try again when one closes`,
              { limit },
            ),
          ),
        ),
      )}\n`,
    );
    setTimeout(() => socket.destroy(), 1000).unref();
  }

  private onLine(conn: Connection, line: string): void {
    if (line.trim() === '') return;
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      conn.send(errorResponse(null, { code: RpcCode.PARSE_ERROR, message: 'parse error: the line is not valid JSON' }));
      return;
    }
    if (Array.isArray(message)) {
      conn.send(
        errorResponse(null, {
          code: RpcCode.INVALID_REQUEST,
          message: 'invalid request: batch requests are not supported; send one object per line',
        }),
      );
      return;
    }
    const parsed = RpcRequest.safeParse(message);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : '(request)';
      conn.send(
        errorResponse(salvageId(message), {
          code: RpcCode.INVALID_REQUEST,
          message: `invalid request: ${where}: ${issue?.message ?? 'not a JSON-RPC 2.0 request'}`,
          data: {
            issues: parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
          },
        }),
      );
      return;
    }
    void this.dispatch(conn, parsed.data);
  }

  private async dispatch(conn: Connection, req: RpcRequest): Promise<void> {
    const id: RpcId = req.id ?? null;
    const notification = req.id === undefined;
    const release = conn.begin();
    const after: Array<() => void> = [];
    try {
      const method = findMethod(req.method);
      if (!method)
        throw new RpcError(RpcCode.METHOD_NOT_FOUND, `method not found: ${req.method}`, { method: req.method });
      if (!method.readOnly && this.opts.context.draining()) {
        throw new AaosError(ErrorCode.SHUTTING_DOWN, `the daemon is shutting down; ${req.method} is refused`);
      }
      const result = await method.handle(req.params, {
        daemon: this.opts.context,
        conn,
        id: req.id,
        afterResponse: (fn) => after.push(fn),
      });
      if (!notification) conn.send(resultResponse(id, result));
    } catch (err) {
      const error = toRpcError(err);
      if (error.code === RpcCode.INTERNAL_ERROR)
        this.opts.log(
          `agentd: internal error in ${req.method}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
        );
      if (!notification) conn.send(errorResponse(id, error));
    } finally {
      for (const fn of after) {
        try {
          fn();
        } catch (err) {
          this.opts.log(`agentd: stream error in ${req.method}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      release();
    }
  }
}
