import { removeDir, RawClient, startDaemon, tempDataDir, type DaemonProcess } from '../daemon/daemon-process.js';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startNats, type NatsServer } from './nats-server.js';

/** One agentd node of a test cluster: its process, a socket client and its data dir. */
export interface TestNode {
  id: string;
  proc: DaemonProcess;
  client: RawClient;
  dir: string;
}

/**
 * A real `nats-server -js` and agentd node processes (built dist/) joined to it, on
 * loopback. `stop()` ends every node and the server and removes their dirs; it also runs
 * when starting fails half way, so a failed test leaves no process behind.
 */
export class TestCluster {
  readonly nodes = new Map<string, TestNode>();

  private constructor(
    readonly nats: NatsServer,
    private readonly env: NodeJS.ProcessEnv,
    private readonly bootstrap: string | undefined,
  ) {}

  /** `bootstrap`: the manifest every node's bootstrap agent is spawned from (default: the bundled one) */
  static async start(ids: string[], env: NodeJS.ProcessEnv, opts: { bootstrap?: string } = {}): Promise<TestCluster> {
    const cluster = new TestCluster(await startNats(), env, opts.bootstrap);
    try {
      await Promise.all(ids.map((id) => cluster.startNode(id)));
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  private nc: Promise<NatsConnection> | undefined;

  /** A NATS client of the test itself (to read the buckets, or to play an intruder); closed by `stop()`. */
  natsClient(): Promise<NatsConnection> {
    this.nc ??= connect({ servers: this.nats.url });
    return this.nc;
  }

  node(id: string): RawClient {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id} in this test cluster`);
    return n.client;
  }

  /** Starts (or, with `dir`, restarts on its old data dir) one node. */
  async startNode(id: string, dir = tempDataDir(), env: NodeJS.ProcessEnv = {}): Promise<TestNode> {
    const proc = await startDaemon({
      dataDir: dir,
      env: { ...this.env, ...env, AAOS_NODE_ID: id },
      args: ['--cluster', this.nats.url],
      ...(this.bootstrap ? { bootstrap: this.bootstrap } : {}),
    });
    const n: TestNode = { id, proc, dir, client: await RawClient.open(proc.socket) };
    this.nodes.set(id, n);
    return n;
  }

  /** kill -9 of one node; its data dir is kept (for a restart) and returned. */
  async kill(id: string): Promise<string> {
    const n = this.nodes.get(id)!;
    n.client.close();
    n.proc.child.kill('SIGKILL');
    await n.proc.exited;
    this.nodes.delete(id);
    this.killedDirs.push(n.dir);
    return n.dir;
  }

  private readonly killedDirs: string[] = [];

  async stop(): Promise<void> {
    await (await this.nc?.catch(() => undefined))?.close();
    for (const n of this.nodes.values()) {
      n.client.close();
      await n.proc.stop().catch(() => null);
      removeDir(n.dir);
    }
    this.nodes.clear();
    for (const dir of this.killedDirs) removeDir(dir);
    await this.nats.stop();
  }
}

/** Polls `probe` until it returns a value (not undefined). */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end)
      throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
