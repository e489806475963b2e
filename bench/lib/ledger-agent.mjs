// A bootstrap agent for kill -9 tests and the soak: each goal run appends one line naming
// its run to a shared ledger (file_write with append: not idempotent; O_APPEND, so runs
// writing at once lose nothing), between slow model turns, so a kill lands mid-run and a
// repeated side effect shows as a second line for the same run.

import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Writes the ledger, the script and the manifest into `dir`; returns their paths. */
export function writeLedgerBootstrap(dir, latencyMs = 700) {
  const ledger = path.join(dir, 'ledger.txt');
  writeFileSync(ledger, '');
  const script = {
    cursor: 'per_run',
    latency_ms: latencyMs,
    turns: [
      { tool_calls: [{ name: 'echo', input: { message: 'starting {run_id}' } }] },
      { tool_calls: [{ name: 'file_write', input: { path: ledger, content: 'ran {run_id}\n', append: true } }] },
      { tool_calls: [{ name: 'echo', input: { message: 'after the append of {run_id}' } }] },
      { text: 'finished {run_id}' },
    ],
  };
  // JSON is valid YAML: no quoting surprises
  writeFileSync(path.join(dir, 'ledger-script.yaml'), JSON.stringify(script, null, 1));
  const manifest = path.join(dir, 'ledger-bootstrap.yaml');
  writeFileSync(
    manifest,
    JSON.stringify({
      name: 'bootstrap',
      model: 'scripted:ledger-script.yaml',
      lifecycle: 'persistent',
      system_prompt: 'ledger bootstrap',
      capabilities: ['tool: echo', 'tool: file_write', `file_write: ${ledger}`],
    }),
  );
  return { manifest, ledger };
}

/** run id → how many times its side effect happened. */
export function ledgerCounts(ledger) {
  const counts = new Map();
  for (const line of readFileSync(ledger, 'utf8').split('\n')) {
    const m = /^ran (\S+)$/.exec(line);
    if (m) counts.set(m[1], (counts.get(m[1]) ?? 0) + 1);
  }
  return counts;
}
