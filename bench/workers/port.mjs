// Worker side of the raw MessagePort measurements (bench/suites/raw.mjs).
// String messages are JSON envelopes; object messages are control commands.
//   {cmd:'echo'}            parse each string, post the same string back
//   {cmd:'count', m}        parse each string, post {done:m} after m of them
//   {cmd:'client', m, warm} act as the caller: send a fresh envelope, wait for the
//                           reply, parse it; post {samples} (µs per round trip)
import { parentPort } from 'node:worker_threads';
import { makeEnvelope } from '../lib/payloads.mjs';

let mode = 'echo';
let target = 0;
let seen = 0;
let waiting = null;

parentPort.on('message', (msg) => {
  if (typeof msg === 'string') {
    const env = JSON.parse(msg);
    if (waiting) {
      const w = waiting;
      waiting = null;
      w(env);
    } else if (mode === 'echo') {
      parentPort.postMessage(msg);
    } else if (++seen === target) {
      parentPort.postMessage({ done: seen });
    }
    return;
  }
  if (msg.cmd === 'echo') mode = 'echo';
  else if (msg.cmd === 'count') {
    mode = 'count';
    target = msg.m;
    seen = 0;
  } else if (msg.cmd === 'client') {
    runClient(msg.m, msg.warm).catch((err) => parentPort.postMessage({ error: String(err) }));
  }
});

function reply() {
  return new Promise((resolve) => {
    waiting = resolve;
  });
}

async function runClient(m, warm) {
  const samples = new Float64Array(m);
  for (let i = 0; i < warm + m; i++) {
    const t0 = process.hrtime.bigint();
    parentPort.postMessage(JSON.stringify(makeEnvelope(i, 'agent-a', 'agent-b')));
    const env = await reply();
    const dt = Number(process.hrtime.bigint() - t0) / 1e3;
    if (env.id !== i) throw new Error(`reply id ${env.id} != ${i}`);
    if (i >= warm) samples[i - warm] = dt;
  }
  parentPort.postMessage({ samples }, [samples.buffer]);
}
