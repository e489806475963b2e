// A bootstrap agent for kill -9 tests and the soak: each goal run inserts one line naming
// its run into a shared ledger (file_edit, not idempotent), between slow model turns, so a
// kill lands mid-run and a repeated side effect shows as a second line for the same run.

import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Writes the ledger, the script and the manifest into `dir`; returns their paths. */
export function writeLedgerBootstrap(dir, latencyMs = 700) {
  const ledger = path.join(dir, 'ledger.txt');
  writeFileSync(ledger, 'END\n');
  const script = {
    cursor: 'per_run',
    latency_ms: latencyMs,
    turns: [
      { tool_calls: [{ name: 'echo', input: { message: 'starting {run_id}' } }] },
      { tool_calls: [{ name: 'file_edit', input: { path: ledger, old_string: 'END', new_string: 'ran {run_id}\nEND' } }] },
      { tool_calls: [{ name: 'echo', input: { message: 'after the edit of {run_id}' } }] },
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
      capabilities: ['tool: echo', 'tool: file_edit', `file_read: ${ledger}`, `file_write: ${ledger}`],
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
