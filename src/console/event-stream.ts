import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuditFeed } from '../runtime/views.js';

// a browser that stops reading is cut off rather than buffered for: it reconnects and reloads
const MAX_BUFFERED = 1 << 20;
const HEARTBEAT_MS = 15_000;

/**
 * Live audit events as Server-Sent Events (`data: <event JSON>`), for the console. Each
 * client is one audit subscriber; it ends when the client goes, or falls 1 MiB behind.
 */
export function serveEvents(req: IncomingMessage, res: ServerResponse, audit: AuditFeed): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    connection: 'keep-alive',
  });
  res.write('retry: 2000\n\n');
  const stop = (): void => {
    unsubscribe();
    clearInterval(heartbeat);
  };
  const unsubscribe = audit.subscribe((e) => {
    if (res.writableLength > MAX_BUFFERED) {
      res.end('event: lag\ndata: {}\n\n');
      stop();
      return;
    }
    res.write(`data: ${JSON.stringify(e)}\n\n`);
  });
  const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
  heartbeat.unref();
  req.on('close', stop);
  res.on('error', stop);
}
