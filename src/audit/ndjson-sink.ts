import { createWriteStream, type WriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type { AuditSink } from './audit-log.js';
import type { AuditEvent } from './event.js';

/** One JSON object per line, to stdout or an append-only file. */
export class NdjsonSink implements AuditSink {
  private constructor(
    private readonly stream: Writable,
    private readonly owned: boolean,
  ) {}

  static toStream(stream: Writable): NdjsonSink {
    return new NdjsonSink(stream, false);
  }

  static toFile(path: string): NdjsonSink {
    const stream: WriteStream = createWriteStream(path, { flags: 'a', mode: 0o640 });
    return new NdjsonSink(stream, true);
  }

  write(event: AuditEvent): void {
    this.stream.write(`${JSON.stringify(event)}\n`);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.owned) this.stream.end(() => resolve());
      else if (this.stream.writableNeedDrain) this.stream.once('drain', () => resolve());
      else resolve();
    });
  }
}
