/** 1 MiB: the largest request line the daemon accepts. */
export const MAX_FRAME_BYTES = 1024 * 1024;

const NEWLINE = 0x0a;

export type SplitResult = { lines: string[]; overflow: boolean };

/**
 * Splits a byte stream into newline-terminated lines, holding at most `maxBytes`
 * of an unfinished line: a peer that never sends a newline cannot make the
 * daemon buffer without bound. Lines are decoded as UTF-8 only once complete,
 * so a multi-byte character split across chunks stays intact.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;

  constructor(private readonly maxBytes = MAX_FRAME_BYTES) {}

  push(chunk: Buffer): SplitResult {
    const lines: string[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE, start); nl !== -1; nl = chunk.indexOf(NEWLINE, start)) {
      const piece = chunk.subarray(start, nl);
      if (this.size + piece.length > this.maxBytes) return { lines, overflow: true };
      const whole = this.parts.length === 0 ? piece : Buffer.concat([...this.parts, piece]);
      this.parts = [];
      this.size = 0;
      lines.push(stripCr(whole.toString('utf8')));
      start = nl + 1;
    }
    const rest = chunk.subarray(start);
    if (rest.length > 0) {
      if (this.size + rest.length > this.maxBytes) return { lines, overflow: true };
      // copy: the socket may reuse the chunk's memory
      this.parts.push(Buffer.from(rest));
      this.size += rest.length;
    }
    return { lines, overflow: false };
  }

  /** Bytes of an unfinished line held right now. */
  get pending(): number {
    return this.size;
  }
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}
