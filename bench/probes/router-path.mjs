// Probe: the supervisor's own work per routed request, without the thread hops. Two real
// agents are spawned; the responder's actor answers each delivery in-process (no
// postMessage, no worker), and the requester's `request` messages are handed straight to the
// supervisor's request handler, so what is timed is exactly the supervisor's JS for one
// request: validation of the worker request and the envelope, sender and capability checks,
// mailbox, audit events, the delivery's bookkeeping, the run result's check and the reply.
//
// usage: node --expose-gc bench/probes/router-path.mjs [--n 20000] [--rounds 5] [--runtime] [--depth 32]
//        (AAOS_BENCH_DIST=<dir> to probe another build; --runtime: Runtime.open with the durable audit sink)
// prints per round: µs of supervisor-thread CPU per request (schedstat) and of wall time.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DIST_DIR, importDist } from '../lib/suite.mjs';
import { agentModuleUrl, manifestYaml, openRuntime, stubModels, tempDir, writeScript } from '../lib/aaos.mjs';
import { mainThreadCpuNs } from '../lib/thread-cpu.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const n = arg('n', 20000);
const rounds = arg('rounds', 5);
const depth = arg('depth', 32);
const useRuntime = process.argv.includes('--runtime');

const { Supervisor } = await importDist('src/kernel/supervisor.js');
const { requestEnvelope } = await import(pathToFileURL(path.join(DIST_DIR, 'src/protocol/envelopes.js')).href);
const tmp = tempDir('router-path');
const script = writeScript(tmp.dir, 'unused', { turns: [{ text: 'unused' }] });
const model = `scripted:${script}`;
const runtime = useRuntime ? await openRuntime({ dataDir: `${tmp.dir}/rt` }) : null;
const sup = runtime
  ? runtime.internalsForTests().supervisor
  : new Supervisor({ dataDir: `${tmp.dir}/bare`, models: stubModels, tools: [] });
const responder = await sup.spawn(manifestYaml({ name: 'responder', model }), {
  module: agentModuleUrl('responder'),
  concurrency: depth,
});
const requester = await sup.spawn(
  manifestYaml({ name: 'requester', model, capabilities: ['message_send: [responder]'] }),
  {
    module: agentModuleUrl('requester'),
  },
);
// reach past the façade (bench only): the request handler, and the two actors
const core = sup.core;
const handler = sup.requests;
const reqActor = core.agents.get(requester.id).actor;
const respActor = core.agents.get(responder.id).actor;
// the responder answers in-process, as bench/agents/responder.mjs would
respActor.deliver = (delivery) =>
  Promise.resolve({
    run_id: delivery.run.run_id,
    response: 'pong',
    stop_reason: 'complete',
    iterations: 0,
    transcript: [],
    error: null,
  });

// the requester's own run (held open), so its requests carry a run and a span as in the suite
let runId;
let trace;
let finishRun;
const started = new Promise((ready) => {
  reqActor.deliver = (delivery) => {
    runId = delivery.run.run_id;
    trace = delivery.run.trace;
    ready();
    return new Promise((resolve) => {
      finishRun = () =>
        resolve({
          run_id: runId,
          response: 'done',
          stop_reason: 'complete',
          iterations: 0,
          transcript: [],
          error: null,
        });
    });
  };
});
const runDone = sup.run(requester.id, 'hold');
await started;

let seq = 1;
const ask = () => {
  const envelope = JSON.stringify(
    requestEnvelope({
      sender: requester.id,
      recipient: responder.id,
      method: 'bench.ping',
      params: { message: 'ping' },
      trace,
    }),
  );
  return handler.handle(reqActor, { t: 'request', id: seq++, run_id: runId, envelope, timeout_ms: 10_000 });
};

async function round(count) {
  let started = 0;
  let done = 0;
  await new Promise((resolve, reject) => {
    const next = () => {
      if (started >= count) {
        if (done >= count) resolve();
        return;
      }
      started++;
      ask().then((reply) => {
        if (!('result' in reply)) reject(new Error(`error reply: ${JSON.stringify(reply)}`));
        done++;
        if (done >= count) resolve();
        else next();
      }, reject);
    };
    for (let i = 0; i < Math.min(depth, count); i++) next();
  });
}

await round(Math.min(n, 5000)); // warm-up: optimised code, steady heap
const rows = [];
for (let r = 0; r < rounds; r++) {
  globalThis.gc?.();
  const cpu0 = mainThreadCpuNs();
  const t0 = process.hrtime.bigint();
  await round(n);
  const wall = Number(process.hrtime.bigint() - t0) / 1e3 / n;
  const cpu = (mainThreadCpuNs() - cpu0) / 1e3 / n;
  rows.push(cpu);
  console.log(`round ${r + 1}: ${cpu.toFixed(2)} µs CPU / request, ${wall.toFixed(2)} µs wall`);
}
rows.sort((a, b) => a - b);
console.log(
  `median ${rows[Math.floor(rows.length / 2)].toFixed(2)} µs CPU / request (${useRuntime ? 'runtime' : 'bare'}, ${DIST_DIR})`,
);
finishRun();
await runDone;
if (runtime) await runtime.close();
else await sup.shutdown();
tmp.cleanup();
