import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { consoleRoutes } from '../console/console-routes.js';
import type { DaemonContext } from '../daemon/methods.js';
import { AaosError, ErrorCode } from '../errors/index.js';
import { MetricsCollector } from '../telemetry/metrics.js';
import { metricsSourcesOf } from '../telemetry/runtime-sources.js';
import { startHttpListener, type HttpListener, type HttpRoute } from './listener.js';
import { loadOrCreateHttpToken } from './token.js';

/** Where a running daemon notes its HTTP listener's URL, for `agentd console`. */
export const HTTP_URL_FILE = 'http-url';

export interface DaemonHttpOptions {
  context: DaemonContext;
  host: string;
  port: number;
  /** routes other parts of the daemon mount on the same listener (e.g. `/mcp`) */
  routes?: HttpRoute[];
}

/**
 * The daemon's HTTP side (`agentd run --http HOST:PORT`): `/metrics` and the console on one
 * loopback listener, behind the token in `<data-dir>/http-token`. The metrics collector
 * exists only while the listener does, so a daemon without `--http` pays nothing for it.
 */
export async function startDaemonHttp(opts: DaemonHttpOptions): Promise<HttpListener> {
  const { runtime } = opts.context;
  const token = loadOrCreateHttpToken(runtime.dataDir);
  const metrics = new MetricsCollector(runtime.events, metricsSourcesOf(runtime));
  const routes: HttpRoute[] = [
    {
      prefix: '/metrics',
      async handle(req, res) {
        if (req.method !== 'GET' && req.method !== 'HEAD')
          throw new AaosError(ErrorCode.HTTP_BAD_REQUEST, `/metrics answers GET, not ${req.method}`);
        const text = await metrics.text();
        res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
    },
    ...consoleRoutes(opts.context, token),
    ...(opts.routes ?? []),
  ];
  let listener: HttpListener;
  try {
    listener = await startHttpListener({ host: opts.host, port: opts.port, token, routes });
  } catch (err) {
    metrics.close();
    throw err;
  }
  const urlFile = join(runtime.dataDir, HTTP_URL_FILE);
  writeFileSync(urlFile, `${listener.url}\n`, { mode: 0o600 });
  return {
    url: listener.url,
    close: async () => {
      metrics.close();
      rmSync(urlFile, { force: true });
      await listener.close();
    },
  };
}
