import { mkdtempSync, readFileSync, rmSync, statSync, chmodSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isLoopback, parseHttpAddress, startHttpListener, type HttpListener } from '../../src/http/listener.js';
import { loadOrCreateHttpToken, readHttpToken } from '../../src/http/token.js';

/** A raw request, so tests can send any Host and Origin header they like. */
function rawRequest(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers ?? {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('the HTTP token', () => {
  let dir: string | undefined;
  afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('is made once with mode 0600, reused after, and tightened when someone loosened it', () => {
    dir = mkdtempSync(join(tmpdir(), 'aaos-token-'));
    const token = loadOrCreateHttpToken(dir);
    expect(token.length).toBeGreaterThanOrEqual(32);
    expect(statSync(join(dir, 'http-token')).mode & 0o777).toBe(0o600);
    expect(loadOrCreateHttpToken(dir)).toBe(token);
    chmodSync(join(dir, 'http-token'), 0o644);
    expect(readHttpToken(dir)).toBe(token);
    expect(statSync(join(dir, 'http-token')).mode & 0o777).toBe(0o600);
  });

  it('refuses a file that holds no usable token, naming the file', () => {
    dir = mkdtempSync(join(tmpdir(), 'aaos-token-'));
    writeFileSync(join(dir, 'http-token'), 'short\n', { mode: 0o600 });
    expect(() => readHttpToken(dir!)).toThrow(/http-token holds no usable token/);
    expect(readFileSync(join(dir, 'http-token'), 'utf8')).toBe('short\n');
  });
});

describe('the HTTP listener', () => {
  let listener: HttpListener | undefined;
  afterEach(async () => {
    await listener?.close();
    listener = undefined;
  });
  const TOKEN = 'x'.repeat(43);

  async function start(): Promise<HttpListener> {
    listener = await startHttpListener({
      host: '127.0.0.1',
      port: 0,
      token: TOKEN,
      routes: [
        { prefix: '/private', handle: (_req, res) => void res.end('secret') },
        { prefix: '/login', public: true, handle: (_req, res) => void res.end('open') },
      ],
    });
    return listener;
  }

  it('parses HOST:PORT and refuses anything else with the value named', () => {
    expect(parseHttpAddress('127.0.0.1:8080')).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(parseHttpAddress('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(() => parseHttpAddress('8080')).toThrow(/--http "8080" is not HOST:PORT/);
    expect(() => parseHttpAddress('127.0.0.1:70000', 'AAOS_HTTP')).toThrow(/AAOS_HTTP/);
    expect(isLoopback('127.0.0.5')).toBe(true);
    expect(isLoopback('0.0.0.0')).toBe(false);
  });

  it('listens on loopback only unless told otherwise', async () => {
    await expect(startHttpListener({ host: '0.0.0.0', port: 0, token: TOKEN, routes: [] })).rejects.toThrow(
      /loopback addresses only/,
    );
  });

  it('needs the token as a bearer header or the aaos_token cookie; public routes do not', async () => {
    const { url } = await start();
    const none = await rawRequest(`${url}/private`);
    expect(none.status).toBe(401);
    expect(JSON.parse(none.body).error.code).toBe('AAOS_ERR_HTTP_UNAUTHORIZED');
    expect(none.body).not.toContain('secret');
    expect((await rawRequest(`${url}/private`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await rawRequest(`${url}/private`, { headers: { authorization: `Bearer ${TOKEN}` } })).body).toBe('secret');
    expect((await rawRequest(`${url}/private/below`, { headers: { cookie: `a=b; aaos_token=${TOKEN}` } })).body).toBe(
      'secret',
    );
    expect((await rawRequest(`${url}/privateer`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
    expect((await rawRequest(`${url}/login`)).body).toBe('open');
  });

  it('refuses another origin and another Host even with the token (cross-site requests, DNS rebinding)', async () => {
    const { url } = await start();
    const auth = { authorization: `Bearer ${TOKEN}` };
    const evil = await rawRequest(`${url}/private`, {
      method: 'POST',
      headers: { ...auth, origin: 'http://evil.example' },
    });
    expect(evil.status).toBe(403);
    expect(JSON.parse(evil.body).error.code).toBe('AAOS_ERR_HTTP_FORBIDDEN');
    expect((await rawRequest(`${url}/private`, { headers: { ...auth, origin: url } })).body).toBe('secret');
    const port = new URL(url).port;
    expect((await rawRequest(`${url}/private`, { headers: { ...auth, host: `evil.example:${port}` } })).status).toBe(
      403,
    );
    expect((await rawRequest(`${url}/login`, { headers: { host: `evil.example:${port}` } })).status).toBe(403);
  });
});
