// Probe: cost of one synchronous LMDB write transaction (the audit sink's per-event commit) vs async puts.
// usage: node bench/probes/lmdb-commit.mjs <dir>   (try a dir on disk and one on /dev/shm)
import { open, TransactionFlags } from 'lmdb';
const dir = process.argv[2];
const root = open({ path: dir, maxDbs: 4 });
const db = root.openDB({ name: 'a' });
for (const [label, flags] of [
  [
    'sync+nosyncflush',
    TransactionFlags.ABORTABLE | TransactionFlags.SYNCHRONOUS_COMMIT | TransactionFlags.NO_SYNC_FLUSH,
  ],
  ['sync', TransactionFlags.ABORTABLE | TransactionFlags.SYNCHRONOUS_COMMIT],
]) {
  const n = 300;
  const t0 = performance.now();
  for (let i = 0; i < n; i++)
    root.transactionSync(() => {
      db.putSync(i, { v: 1, at: Date.now(), event: { a: 'x'.repeat(300) } });
    }, flags);
  console.log(dir, label, (((performance.now() - t0) / n) * 1000).toFixed(0), 'us/txn');
}
const t0 = performance.now();
const n = 3000;
for (let i = 0; i < n; i++) db.put(i + 1e6, { v: 1, at: Date.now(), event: { a: 'x'.repeat(300) } });
await db.committed;
console.log('async put', (((performance.now() - t0) / n) * 1000).toFixed(1), 'us/put');
await root.close();
