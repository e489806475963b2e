// cluster: the fan-out workload (lib/fanout-workload.mjs) on 1, 2 and 4 agentd nodes joined to
// one real `nats-server -js` on loopback, with the single-node embedded runtime (no NATS) beside.
//
// Two measurements per node count, both at model latency L = 50 ms and N children in total
// (N = 1000; --quick: 100), children of one goal placed least-loaded across the nodes:
//   fanout_wall_ms  one goal whose root spawns N children (spawn_agents); submit → end frame
//   goals_per_s     G goals at once, each a root spawning N/G children; G / (first submit → last end)
// Every child makes 3 `echo` calls then answers; every model call is the scripted provider.
// Nodes are separate processes started for each configuration (dist/src/cli/agentd.js);
// they share this machine's cores, which is what limits scaling here (bench/README.md).
//
//   node bench/suites/cluster.mjs [--quick] [--children N] [--nodes 1,2,4] [--goals G]   (--goals 0: fan-out only)

import { spawn, execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect, createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { runSuite, SkipSuite, DIST_DIR } from '../lib/suite.mjs';
import { manifestYaml, openRuntime, writeScript } from '../lib/aaos.mjs';
import { CHILD_TOOL_CALLS, ECHO_TOOL, childTask } from '../lib/fanout-workload.mjs';
import { nowNs, msSince, sig } from '../lib/stats.mjs';

const LATENCY_MS = 50;
const AGENTD = path.join(DIST_DIR, 'src', 'cli', 'agentd.js');

function natsServerPath() {
  try {
    return execFileSync('sh', ['-c', 'command -v nats-server'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** A child process that must be gone when the suite ends, however it ends. */
const children = new Set();
const killAll = () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
};
process.on('exit', killAll);

// The runner SIGKILLs a suite that overruns its time, and no exit handler runs then: a
// detached reaper watches this process and kills the pids listed in a file once it is gone.
const reaperDir = mkdtempSync(path.join(os.tmpdir(), 'aaos-bench-reaper-'));
const pidFile = path.join(reaperDir, 'pids');
writeFileSync(pidFile, '');
spawn(
  process.execPath,
  [
    '-e',
    `const fs = require('node:fs');
     const [parent, file, dir] = process.argv.slice(1);
     setInterval(() => {
       try { process.kill(Number(parent), 0); return; } catch {}
       for (const line of fs.readFileSync(file, 'utf8').split('\\n').filter(Boolean)) {
         // a pid to kill, or (an absolute path) a directory to remove
         try { if (line.startsWith('/')) fs.rmSync(line, { recursive: true, force: true }); else process.kill(Number(line), 'SIGKILL'); } catch {}
       }
       fs.rmSync(dir, { recursive: true, force: true });
       process.exit(0);
     }, 500);`,
    String(process.pid),
    pidFile,
    reaperDir,
  ],
  { detached: true, stdio: 'ignore' },
).unref();

function track(child) {
  children.add(child);
  appendFileSync(pidFile, `${child.pid}\n`);
  const exited = new Promise((r) => child.once('exit', () => r()));
  void exited.then(() => children.delete(child));
  return exited;
}

/** Starts a process and waits until its stderr contains `ready` (rejects if it exits first). */
async function startProcess(cmd, args, env, ready, what) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
  const exited = track(child);
  let err = '';
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} not ready in 120 s:\n${err.slice(-2000)}`)), 120_000);
    child.stderr.on('data', (d) => {
      err += d.toString();
      if (err.length > 100_000) err = err.slice(-50_000);
      if (err.includes(ready)) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${what} exited before it was ready:\n${err.slice(-2000)}`));
    });
  });
  return {
    child,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** One JSON-RPC call over the daemon socket; with `untilEnd`, also waits for the stream's end frame. */
function rpc(socket, method, params, { untilEnd = false } = {}) {
  return new Promise((resolve, reject) => {
    const sock = netConnect(socket);
    let result;
    sock.on('error', reject);
    createInterface({ input: sock }).on('line', (line) => {
      const msg = JSON.parse(line);
      if (msg.id === 1) {
        if (msg.error) {
          sock.destroy();
          reject(new Error(`${method}: ${JSON.stringify(msg.error)}`));
          return;
        }
        result = msg.result;
        if (!untilEnd) {
          sock.destroy();
          resolve(result);
        }
      } else if (untilEnd && msg.kind === 'end') {
        sock.destroy();
        resolve({ ...result, end: msg });
      }
    });
    sock.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method, params })}\n`);
  });
}

/** The workload's scripts: a root that spawns `n` children, and the child (3 echo calls, then an answer). */
function workload(dir, n) {
  const childTurns = [];
  for (let k = 1; k <= CHILD_TOOL_CALLS; k++)
    childTurns.push({ tool_calls: [{ name: ECHO_TOOL, input: { message: `{message} step ${k}` } }] });
  childTurns.push({ text: 'done {message}' });
  const child = writeScript(dir, 'child', { turns: childTurns, latency_ms: LATENCY_MS, cursor: 'per_agent' });
  const childYaml = manifestYaml({
    name: 'child',
    model: `scripted:${child}`,
    capabilities: [`tool: ${ECHO_TOOL}`],
    systemPrompt: 'fan-out child',
  });
  const root = writeScript(dir, `root-${n}`, {
    turns: [
      {
        tool_calls: [
          {
            name: 'spawn_agents',
            input: { children: Array.from({ length: n }, (_, i) => ({ manifest: childYaml, message: childTask(i) })) },
          },
        ],
      },
      { text: 'collected {last_tool_result:count} child answers, {last_tool_result:failed} failed' },
    ],
    latency_ms: LATENCY_MS,
    cursor: 'per_run',
  });
  const bootstrap = path.join(dir, `bootstrap-${n}.yaml`);
  writeScript(dir, `bootstrap-${n}`, {
    name: 'bootstrap',
    model: `scripted:${root}`,
    lifecycle: 'persistent',
    system_prompt: 'fan-out root',
    capabilities: ['tool: spawn_agents', `tool: ${ECHO_TOOL}`, 'spawn_child: [*]', `file_read: ${dir}/*`],
  });
  return bootstrap;
}

const expectResult = (n) => `collected ${n} child answers, 0 failed`;

/** nats-server + `nodes` agentd processes; `run(sockets)` measures; everything is stopped after. */
async function withCluster(natsBin, dir, nodes, bootstrap, env, run) {
  const port = await freePort();
  const store = mkdtempSync(path.join(os.tmpdir(), 'aaos-bench-nats-'));
  appendFileSync(pidFile, `${store}\n`);
  const procs = [];
  try {
    const nats = await startProcess(
      natsBin,
      ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', store],
      process.env,
      'Server is ready',
      'nats-server',
    );
    procs.push(nats);
    const sockets = [];
    const started = await Promise.all(
      Array.from({ length: nodes }, async (_, i) => {
        const data = path.join(dir, `node${nodes}-${i}-${Date.now()}`);
        mkdirSync(data, { recursive: true });
        const socket = path.join(data, 'agentd.sock');
        const p = await startProcess(
          process.execPath,
          [
            AGENTD,
            'run',
            '--data-dir',
            data,
            '--socket',
            socket,
            '--bootstrap',
            bootstrap,
            '--cluster',
            `nats://127.0.0.1:${port}`,
          ],
          { ...process.env, ...env, AAOS_NODE_ID: `node${i}` },
          'listening on',
          `agentd node${i}`,
        );
        sockets[i] = socket;
        return p;
      }),
    );
    procs.push(...started);
    // every node sees every node taking children from the others
    const deadline = Date.now() + 60_000;
    for (;;) {
      const s = await rpc(sockets[0], 'cluster.status', {});
      if (s.nodes.filter((n) => n.remote_agents).length === nodes) break;
      if (Date.now() > deadline) throw new Error(`only ${s.nodes.length} of ${nodes} nodes announced themselves`);
      await new Promise((r) => setTimeout(r, 200));
    }
    return await run(sockets);
  } finally {
    for (const p of procs.slice(1).reverse()) await p.stop();
    await procs[0]?.stop();
    rmSync(store, { recursive: true, force: true });
  }
}

/** Submits `goals` goals round-robin over the nodes at once; wall time from the first submit to the last end. */
async function submitAll(sockets, goals, n) {
  const t0 = nowNs();
  const ends = await Promise.all(
    Array.from({ length: goals }, (_, g) =>
      rpc(sockets[g % sockets.length], 'agent.submit_streaming', { goal: `fan out ${g}` }, { untilEnd: true }),
    ),
  );
  const wall = msSince(t0);
  for (const e of ends) {
    if (e.end.result !== expectResult(n))
      throw new Error(`a goal ended ${e.end.status}: ${e.end.result ?? JSON.stringify(e.end)}`);
  }
  return wall;
}

/** The same goals on the embedded single-node runtime (no NATS, no socket): goal runner in-process. */
async function embedded(dir, goals, n, env) {
  const runtime = await openRuntime({
    dataDir: path.join(dir, `embedded-${goals}-${Date.now()}`),
    env,
    maxAgents: goals * (n + 1) + 10,
  });
  try {
    await runtime.startBootstrap(workload(dir, n));
    const t0 = nowNs();
    const done = await Promise.all(Array.from({ length: goals }, (_, g) => runtime.goals.submit(`fan out ${g}`).done));
    const wall = msSince(t0);
    for (const rec of done)
      if (rec.result !== expectResult(n))
        throw new Error(`an embedded goal ended ${rec.state}: ${rec.result ?? JSON.stringify(rec.error)}`);
    return wall;
  } finally {
    await runtime.close();
  }
}

await runSuite('cluster', async ({ quick, flags, log }) => {
  const natsBin = natsServerPath();
  if (!natsBin) throw new SkipSuite('nats-server is not installed (Debian: apt-get install nats-server)');
  const total = Number(flags.children ?? (quick ? 40 : 1000));
  // --goals 0: the single fan-out only (the throughput batch is skipped)
  const goals = Number(flags.goals ?? (quick ? 4 : 10));
  const nodeCounts = flags.nodes ? String(flags.nodes).split(',').map(Number) : [1, 2, 4];
  const perGoal = goals > 0 ? Math.floor(total / goals) : 0;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'aaos-bench-cluster-'));
  appendFileSync(pidFile, `${dir}\n`);
  const env = (nodes) => ({
    PATH: process.env.PATH ?? '',
    HOME: dir,
    AAOS_PARK_IDLE_MS: '0',
    AAOS_SPAWN_AGENTS_BATCH_CAP: String(total),
    AAOS_MAX_CONCURRENT_INFERENCE_SCRIPTED: String(Math.max(256, 2 * total)),
    AAOS_MAX_AGENTS: String(total + goals + 10),
    AAOS_MAX_CONCURRENT_GOALS: String(Math.max(1, Math.ceil(goals / nodes))),
    AAOS_CLUSTER_KEY: 'bench-cluster-key',
    AAOS_CLUSTER_HEARTBEAT_MS: '500',
    AAOS_CLUSTER_ACK_WAIT_MS: '120000',
    AAOS_RESUME_RUNS: '0',
    AAOS_SPAWN_RETRIES: '0',
  });
  const rows = [];
  try {
    log(
      `N=${total} children, L=${LATENCY_MS} ms; throughput: ${goals} goals × ${perGoal} children; nodes ${nodeCounts.join(', ')}`,
    );
    // the box's 1-minute load average when a configuration starts: on a shared machine it says
    // how much of the spread between rows is other people's work
    const row = (nodes, fan, batch, load) => ({
      nodes,
      fanout_wall_ms: sig(fan),
      goals_wall_ms: batch === null ? null : sig(batch),
      goals_per_s: batch === null ? null : sig((goals * 1000) / batch),
      load_before: sig(load),
    });
    const embeddedLoad = os.loadavg()[0];
    const embeddedFan = await embedded(dir, 1, total, env(1));
    const embeddedGoals = goals > 0 ? await embedded(dir, goals, perGoal, env(1)) : null;
    rows.push(row('embedded', embeddedFan, embeddedGoals, embeddedLoad));
    log(
      `embedded: fan-out ${Math.round(embeddedFan)} ms; ${goals} goals ${embeddedGoals === null ? '-' : Math.round(embeddedGoals)} ms (load before ${embeddedLoad.toFixed(1)})`,
    );
    for (const nodes of nodeCounts) {
      const load = os.loadavg()[0];
      const fan = await withCluster(natsBin, dir, nodes, workload(dir, total), env(nodes), (sockets) =>
        submitAll(sockets, 1, total),
      );
      const batch =
        goals > 0
          ? await withCluster(natsBin, dir, nodes, workload(dir, perGoal), env(nodes), (sockets) =>
              submitAll(sockets, goals, perGoal),
            )
          : null;
      rows.push(row(nodes, fan, batch, load));
      log(
        `${nodes} node(s): fan-out ${Math.round(fan)} ms; ${goals} goals ${batch === null ? '-' : Math.round(batch)} ms (load before ${load.toFixed(1)})`,
      );
    }
  } finally {
    killAll();
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    results: { cluster: rows },
    details: {
      config: {
        children: total,
        goals,
        children_per_goal: perGoal,
        model_latency_ms: LATENCY_MS,
        nodes: nodeCounts,
        cores: os.cpus().length,
      },
      method:
        'nats-server -js and K agentd processes on loopback, started per configuration; goals submitted over the daemon socket (round-robin over nodes), ended by the stream end frame; children placed least-loaded (AAOS_CLUSTER_KEY set); embedded: Runtime.open + goal runner in this process',
    },
    notes: [`every node shares this machine's ${os.cpus().length} cores: more nodes add supervisor threads, not cores`],
  };
});
