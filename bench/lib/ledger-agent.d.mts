export function writeLedgerBootstrap(dir: string, latencyMs?: number): { manifest: string; ledger: string };
export function ledgerCounts(ledger: string): Map<string, number>;
