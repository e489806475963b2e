import { spawn, type ChildProcess } from 'node:child_process';
import { ReadBuffer, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

export interface StdioServerSpawn {
  command: string;
  args: string[];
  /** the server's whole environment besides PATH: the declaration's `env`, nothing inherited */
  env: Record<string, string>;
  cwd?: string;
  /** PATH the server gets (the daemon's own, so `command: npx` resolves) */
  path: string | undefined;
}

const STDERR_KEEP = 4096;

/**
 * MCP over a child process's stdio. The SDK's own stdio transport adds HOME, USER, SHELL
 * and more from the daemon's environment; this one gives the server exactly its declared
 * variables plus PATH, so no provider key can leak into a third-party process.
 */
export class StdioServerTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  private child: ChildProcess | undefined;
  private readonly buffer = new ReadBuffer();
  private stderrTail = '';
  /** what the client negotiated with the server */
  protocolVersion: string | undefined;

  constructor(private readonly spec: StdioServerSpawn) {}

  setProtocolVersion(version: string): void {
    this.protocolVersion = version;
  }

  /** the server process id while it runs */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** the end of what the server wrote to stderr (for error reports) */
  get stderr(): string {
    return this.stderrTail.trim();
  }

  start(): Promise<void> {
    if (this.child) return Promise.reject(new Error('stdio transport already started'));
    return new Promise((resolve, reject) => {
      // the declaration may set its own PATH; otherwise the daemon's
      const env: Record<string, string> = {
        ...(this.spec.path !== undefined ? { PATH: this.spec.path } : {}),
        ...this.spec.env,
      };
      const child = spawn(this.spec.command, this.spec.args, {
        env,
        stdio: ['pipe', 'pipe', 'pipe'],
        shell: false,
        ...(this.spec.cwd ? { cwd: this.spec.cwd } : {}),
      });
      this.child = child;
      child.once('error', (err) => {
        reject(err);
        this.onerror?.(err);
      });
      child.once('spawn', () => resolve());
      child.once('close', () => {
        this.child = undefined;
        this.onclose?.();
      });
      child.stdin!.on('error', (err) => this.onerror?.(err));
      child.stdout!.on('data', (chunk: Buffer) => {
        this.buffer.append(chunk);
        for (;;) {
          let message: JSONRPCMessage | null;
          try {
            message = this.buffer.readMessage();
          } catch (err) {
            this.onerror?.(err as Error);
            continue;
          }
          if (message === null) break;
          this.onmessage?.(message);
        }
      });
      child.stderr!.on('data', (chunk: Buffer) => {
        this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-STDERR_KEEP);
      });
    });
  }

  send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.child?.stdin;
    if (!stdin || stdin.destroyed) return Promise.reject(new Error('the server process is not running'));
    return new Promise((resolve) => {
      if (stdin.write(serializeMessage(message))) resolve();
      else stdin.once('drain', () => resolve());
    });
  }

  /** End stdin, then SIGTERM, then SIGKILL: a server that ignores the first still goes. */
  async close(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const closed = new Promise<void>((r) => child.once('close', () => r()));
    const within = (ms: number) =>
      Promise.race([closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
    child.stdin?.end();
    if (!(await within(1000))) {
      child.kill('SIGTERM');
      if (!(await within(2000))) child.kill('SIGKILL');
    }
    this.buffer.clear();
  }
}
