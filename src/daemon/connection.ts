import type { Socket } from 'node:net';
import { frameTooLarge, type RpcId } from './jsonrpc.js';
import { LineSplitter, MAX_FRAME_BYTES } from './line-splitter.js';

/** A client that stops reading is dropped once this much output is queued for it. */
const MAX_QUEUED_OUTPUT_BYTES = 8 * 1024 * 1024;

export interface ConnectionOptions {
  /** end the connection after this long without input while nothing is in flight; 0 = never */
  idleMs: number;
}

/**
 * One client connection: bounded line input, JSON-line output, and close hooks so
 * that streams and watchers unsubscribe the moment the peer goes away.
 *
 * A connection is "busy" while a request awaits its response or a stream (a close
 * hook) is open. An idle connection whose peer has shut down writing is ended at
 * once; an idle connection that stays quiet for `idleMs` is ended too. Either way
 * the socket (and its file descriptor) is released without waiting for the peer.
 */
export class Connection {
  private readonly splitter = new LineSplitter(MAX_FRAME_BYTES);
  private readonly closeHooks = new Set<() => void>();
  private readonly goneHooks: Array<() => void> = [];
  private isClosed = false;
  /** requests whose response is not written yet */
  private inFlight = 0;
  /** when the last request arrived or the last work in flight ended (idle is counted from it) */
  private lastRequestAt = Date.now();
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly socket: Socket,
    private readonly onLine: (conn: Connection, line: string) => void,
    options: ConnectionOptions = { idleMs: 0 },
  ) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', () => this.teardown());
    socket.on('close', () => {
      this.teardown();
      for (const hook of this.goneHooks.splice(0)) hook();
    });
    // a half-closed peer (sent its requests, then shut down writing) still gets its answers
    socket.on('end', () => this.endIfIdle());
    // idle means no request, not no bytes: a peer that trickles a partial line (or blank
    // lines) never completes a request, and must not hold its slot for ever (slowloris)
    if (options.idleMs > 0) this.armIdle(options.idleMs, options.idleMs);
  }

  /** Closes the connection once it has been idle (no request, nothing in flight) for `idleMs`. */
  private armIdle(idleMs: number, delay: number): void {
    this.idleTimer = setTimeout(() => {
      if (this.isClosed) return;
      const quiet = Date.now() - this.lastRequestAt;
      if (!this.busy && quiet >= idleMs) {
        this.closeGracefully();
        return;
      }
      this.armIdle(idleMs, this.busy ? idleMs : idleMs - quiet);
    }, delay);
    this.idleTimer.unref();
  }

  /** Marks a request in progress; call the returned function once its response is written. */
  begin(): () => void {
    this.inFlight += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight -= 1;
      this.lastRequestAt = Date.now();
      this.endIfIdle();
    };
  }

  /** Bytes written but not yet taken by the peer. */
  get queuedBytes(): number {
    return this.socket.writableLength;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** a request awaits its response, or a stream is open */
  get busy(): boolean {
    return this.inFlight > 0 || this.closeHooks.size > 0;
  }

  /** Writes one JSON line; false (and nothing written) once the connection is gone. */
  send(message: unknown): boolean {
    if (this.isClosed || this.socket.destroyed || !this.socket.writable) return false;
    if (this.socket.writableLength > MAX_QUEUED_OUTPUT_BYTES) {
      // never buffer without bound for a peer that does not read
      this.socket.destroy();
      this.teardown();
      return false;
    }
    this.socket.write(`${JSON.stringify(message)}\n`);
    return true;
  }

  /** Runs `hook` when the connection closes (at once if it already has); returns the remover. */
  onClose(hook: () => void): () => void {
    if (this.isClosed) {
      hook();
      return () => {};
    }
    this.closeHooks.add(hook);
    return () => {
      this.closeHooks.delete(hook);
      this.lastRequestAt = Date.now();
      this.endIfIdle();
    };
  }

  /** Runs `hook` once the socket is fully closed (its descriptor released); for the server's count. */
  onGone(hook: () => void): void {
    if (this.socket.destroyed && this.socket.closed) hook();
    else this.goneHooks.push(hook);
  }

  /** Sends a last message, then closes the connection gracefully. */
  finish(message?: unknown): void {
    if (message !== undefined) this.send(message);
    this.closeGracefully();
  }

  destroy(): void {
    this.socket.destroy();
    this.teardown();
  }

  private receive(chunk: Buffer): void {
    if (this.isClosed) return;
    const { lines, overflow } = this.splitter.push(chunk);
    for (const line of lines) {
      if (this.isClosed) return;
      if (line.trim() !== '') this.lastRequestAt = Date.now();
      this.onLine(this, line);
    }
    if (overflow) {
      const id: RpcId = null;
      this.send({ jsonrpc: '2.0', id, error: frameTooLarge(MAX_FRAME_BYTES) });
      this.teardown();
      // keep draining (and discarding) the peer's bytes: closing with unread input would
      // reset the connection and could lose the error before the peer reads it
      this.socket.removeAllListeners('data');
      this.socket.on('data', () => {});
      this.closeGracefully(5000);
    }
  }

  /**
   * Ends our side (queued output is still delivered), and destroys the socket if the
   * peer has not closed its side within `lingerMs`: a peer that never reads or never
   * closes must not hold a descriptor.
   */
  private closeGracefully(lingerMs = 1000): void {
    if (!this.socket.writableEnded) this.socket.end();
    // with allowHalfOpen the socket closes once both sides ended; this covers a silent peer
    if (!this.socket.destroyed) setTimeout(() => this.socket.destroy(), lingerMs).unref();
  }

  /** A half-closed peer (sent its requests, then shut down writing) gets its answers, then EOF. */
  private endIfIdle(): void {
    if (this.socket.readableEnded && !this.busy && !this.socket.writableEnded) this.closeGracefully();
  }

  private teardown(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    clearTimeout(this.idleTimer);
    const hooks = [...this.closeHooks];
    this.closeHooks.clear();
    for (const hook of hooks) {
      try {
        hook();
      } catch {
        // a hook must not stop the others
      }
    }
  }
}
