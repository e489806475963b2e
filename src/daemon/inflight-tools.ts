import type { AuditLog } from '../audit/audit-log.js';

/**
 * Counts tool calls in progress from the audit trail (every ToolInvoked is followed
 * by exactly one ToolResult), so shutdown can let them finish before stopping workers.
 */
export class InflightTools {
  private count = 0;
  private waiters: Array<() => void> = [];
  private readonly unsubscribe: () => void;

  constructor(audit: AuditLog) {
    this.unsubscribe = audit.subscribe((e) => {
      if (e.type === 'ToolInvoked') this.count += 1;
      else if (e.type === 'ToolResult') {
        this.count = Math.max(0, this.count - 1);
        if (this.count === 0) this.wake();
      }
    });
  }

  get inFlight(): number {
    return this.count;
  }

  /** Resolves true once no tool call is running, or false when `timeoutMs` passes first. */
  settle(timeoutMs: number): Promise<boolean> {
    if (this.count === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== wake);
        resolve(false);
      }, timeoutMs);
      const wake = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      this.waiters.push(wake);
    });
  }

  close(): void {
    this.unsubscribe();
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
