import type { Socket } from 'node:net';
import { frameTooLarge, type RpcId } from './jsonrpc.js';
import { LineSplitter, MAX_FRAME_BYTES } from './line-splitter.js';

/** A client that stops reading is dropped once this much output is queued for it. */
export const MAX_QUEUED_OUTPUT_BYTES = 8 * 1024 * 1024;

/**
 * One client connection: bounded line input, JSON-line output, and close hooks so
 * that streams and watchers unsubscribe the moment the peer goes away.
 */
export class Connection {
  private readonly splitter = new LineSplitter(MAX_FRAME_BYTES);
  private readonly closeHooks = new Set<() => void>();
  private isClosed = false;
  /** requests whose response is not written yet */
  private inFlight = 0;

  constructor(
    readonly socket: Socket,
    private readonly onLine: (conn: Connection, line: string) => void,
  ) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', () => this.teardown());
    socket.on('close', () => this.teardown());
    // a half-closed peer (sent its requests, then shut down writing) still gets its answers
    socket.on('end', () => this.endIfIdle());
  }

  /** Marks a request in progress; call the returned function once its response is written. */
  begin(): () => void {
    this.inFlight += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight -= 1;
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
      this.endIfIdle();
    };
  }

  /** Sends a last message, then closes the connection gracefully. */
  finish(message?: unknown): void {
    if (message !== undefined) this.send(message);
    this.socket.end();
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
      this.socket.end();
      setTimeout(() => this.socket.destroy(), 5000).unref();
    }
  }

  /** A half-closed peer (sent its requests, then shut down writing) gets its answers, then EOF. */
  private endIfIdle(): void {
    if (this.socket.readableEnded && this.inFlight === 0 && this.closeHooks.size === 0 && !this.socket.writableEnded) this.socket.end();
  }

  private teardown(): void {
    if (this.isClosed) return;
    this.isClosed = true;
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
