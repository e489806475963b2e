// actors: virtual actors at scale. R persistent agents are registered parked (the agent
// record in the store, capability tokens, a parked actor in the supervisor; no worker), then
// a stream of messages goes to agents picked at random: a parked one starts a worker on its
// message (reactivation), runs one scripted turn (L = 0) and is parked again when idle.
//
//   registered                R (100k full, 10k quick)
//   register_per_s            R / time to register them one after another (supervisor.spawn with
//                             parked: true, and the agent record Runtime.spawnAgent would write,
//                             1000 records per store transaction)
//   store_bytes_per_agent     growth of the LMDB file (data.mdb) / R (records + audit events)
//   rss_kb_per_parked_agent   (settled RSS after − before registering) / R
//   threads_added             OS threads of the process after registering − before (the warm
//                             pool may move it by a few; every agent is also checked to hold no worker)
//   activation_ms_p50 / p99   message sent to a parked agent → its run's result (worker start
//                             through the launcher, warm pool of `warm` (8) workers, + one turn)
//   running_ms_p50            the same for messages that found their agent still running
// The stream is open-loop at `rate` messages/s (5), `messages` long (500 full, 100 quick);
// AAOS_PARK_IDLE_MS = 300 so activated agents park again and the stream keeps finding parked
// ones. Flags: --agents N --messages M --rate R --warm W.

import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { runSuite } from '../lib/suite.mjs';
import { nowNs, msSince, percentiles, sig, sleep } from '../lib/stats.mjs';
import { openRuntime, settledRssMb, tempDir, writeScript } from '../lib/aaos.mjs';

const threadCount = () => readdirSync('/proc/self/task').length;

await runSuite('actors', async ({ quick, flags, log }) => {
  const num = (name, fallback) => (flags[name] !== undefined ? Number(flags[name]) : fallback);
  const cfg = {
    agents: num('agents', quick ? 10_000 : 100_000),
    messages: num('messages', quick ? 100 : 500),
    rate: num('rate', 5),
    warm: num('warm', 8),
    park_idle_ms: 300,
  };
  log(`config ${JSON.stringify(cfg)}`);
  const tmp = tempDir('actors');
  const dataDir = path.join(tmp.dir, 'data');
  const script = writeScript(tmp.dir, 'actor', { turns: [{ text: 'ok {message}' }], latency_ms: 0, cursor: 'per_run' });
  const yaml = JSON.stringify({
    name: 'actor',
    model: `scripted:${script}`,
    system_prompt: 'virtual actor',
    lifecycle: 'persistent',
    capabilities: [],
  });
  const runtime = await openRuntime({
    dataDir,
    maxAgents: cfg.agents + 100,
    warmWorkers: cfg.warm,
    env: { AAOS_PARK_IDLE_MS: String(cfg.park_idle_ms) },
  });
  // the parts the bench drives (the Runtime keeps them private)
  const parts = runtime.internalsForTests();
  const storeFile = path.join(dataDir, 'store', 'data.mdb');
  try {
    const sup = parts.supervisor;
    const rssBefore = await settledRssMb();
    const threadsBefore = threadCount();
    const bytesBefore = statSync(storeFile).size;
    const ids = [];
    const t0 = nowNs();
    // what Runtime.spawnAgent does for a persistent agent, with the agent records written
    // 1000 per transaction (one flushed commit each) instead of one commit per agent
    for (let i = 0; i < cfg.agents; i += 1000) {
      const infos = [];
      for (let k = i; k < Math.min(cfg.agents, i + 1000); k++) infos.push(await sup.spawn(yaml, { parked: true }));
      parts.store.transaction(() => {
        for (const info of infos)
          parts.agentStore.put({
            id: info.id,
            name: info.name,
            manifest_yaml: yaml,
            state: info.state,
            created_at: info.created_at,
          });
      });
      ids.push(...infos.map((info) => info.id));
      if ((i + 1000) % 10_000 === 0) log(`registered ${i + 1000}`);
    }
    const registerMs = msSince(t0);
    await parts.auditStore.settle();
    const rssAfter = await settledRssMb();
    const threadsAdded = threadCount() - threadsBefore;
    const bytesAfter = statSync(storeFile).size;
    const notParked = sup.list().filter((a) => a.state !== 'parked').length;
    if (notParked > 0) throw new Error(`${notParked} of ${cfg.agents} registered agents are not parked`);
    const withWorker = ids.filter((id) => sup.record(id)?.actor.threadId !== undefined).length;
    if (withWorker > 0) throw new Error(`${withWorker} of ${cfg.agents} parked agents hold a worker`);
    if (parts.agentStore.list().length !== cfg.agents) throw new Error('not every agent was recorded in the store');
    log(
      `registered ${cfg.agents} in ${registerMs.toFixed(0)} ms; RSS +${(rssAfter - rssBefore).toFixed(1)} MB; threads +${threadsAdded}; store +${((bytesAfter - bytesBefore) / 2 ** 20).toFixed(1)} MB`,
    );

    // the stream: open loop, agents picked by a seeded generator
    let x = 12345;
    const pick = () => {
      x = (x * 1103515245 + 12345) >>> 0;
      return ids[x % ids.length];
    };
    const activation = [];
    const running = [];
    const pending = [];
    const start = nowNs();
    for (let m = 0; m < cfg.messages; m++) {
      const due = (m * 1000) / cfg.rate;
      const wait = due - msSince(start);
      if (wait > 0) await sleep(wait);
      const id = pick();
      const wasParked = sup.status(id).state === 'parked';
      const s = nowNs();
      pending.push(
        sup.run(id, `message ${m}`).then((out) => {
          if (out.stop_reason !== 'complete' || out.response !== `ok message ${m}`)
            throw new Error(`message ${m} to ${id}: ${out.stop_reason} ${JSON.stringify(out.response)}`);
          (wasParked ? activation : running).push(msSince(s));
        }),
      );
    }
    await Promise.all(pending);
    if (activation.length === 0) throw new Error('no message found a parked agent');
    const a = percentiles(activation, [50, 99]);
    const r = running.length ? percentiles(running, [50]) : { p50: null };
    log(
      `activations ${activation.length}: p50 ${a.p50.toFixed(1)} ms, p99 ${a.p99.toFixed(1)} ms; to running agents ${running.length}`,
    );
    return {
      results: {
        actors: {
          registered: cfg.agents,
          register_per_s: sig((cfg.agents * 1000) / registerMs),
          store_bytes_per_agent: sig((bytesAfter - bytesBefore) / cfg.agents),
          rss_kb_per_parked_agent: sig(((rssAfter - rssBefore) * 1024) / cfg.agents),
          threads_added: threadsAdded,
          activation_ms_p50: sig(a.p50),
          activation_ms_p99: sig(a.p99),
          activations: activation.length,
          running_ms_p50: r.p50 === null ? null : sig(r.p50),
          messages: cfg.messages,
        },
      },
      details: {
        actors: {
          config: cfg,
          method:
            'supervisor.spawn(persistent manifest, {parked: true}) × R + their agent records (1000 per transaction); then an open-loop stream of supervisor.run(random agent) at `rate`/s; scripted model, L = 0',
        },
      },
      notes: quick ? [`quick mode registers ${cfg.agents} agents, not 100k`] : [],
    };
  } finally {
    await runtime.close();
    tmp.cleanup();
  }
});
