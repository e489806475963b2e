import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AGENTD,
  RawClient,
  ROOT,
  removeDir,
  startDaemon,
  tempDataDir,
  writerManifest,
  type DaemonProcess,
} from '../daemon/daemon-process.js';

const run = promisify(execFile);
const CHROMIUM = process.env['AAOS_CHROMIUM'] ?? '/usr/bin/chromium';
// screenshots for the docs are refreshed with AAOS_UPDATE_SCREENSHOTS=1; otherwise they go to the data dir
const SHOTS = process.env['AAOS_UPDATE_SCREENSHOTS'] === '1' ? join(ROOT, 'docs', 'img') : undefined;

async function signInUrl(dataDir: string): Promise<string> {
  const { stdout } = await run(process.execPath, [AGENTD, 'console', '--data-dir', dataDir]);
  return stdout.trim();
}

describe('the web console in headless Chromium', { timeout: 180_000 }, () => {
  let daemon: DaemonProcess;
  let dir: string;
  let base: string;
  let browser: Browser;
  let page: Page;
  let shots: string;

  beforeAll(async () => {
    dir = tempDataDir();
    shots = SHOTS ?? join(dir, 'shots');
    mkdirSync(shots, { recursive: true });
    daemon = await startDaemon({ dataDir: dir, args: ['--http', '127.0.0.1:0'] });
    base = readFileSync(join(dir, 'http-url'), 'utf8').trim();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1360, height: 1000 } });
  }, 120_000);

  /** Types a goal into the form, submits it, and returns the new run's id once the page shows it. */
  async function submitFromPage(goal: string): Promise<string> {
    const before = await page.textContent('#submit-result');
    await page.fill('#goal', goal);
    await page.click('#submit-button');
    await expect.poll(async () => page.textContent('#submit-result'), { timeout: 30_000 }).not.toBe(before);
    const runId = /submitted run (\S+)/.exec((await page.textContent('#submit-result')) ?? '')?.[1];
    expect(runId).toMatch(/^[0-9a-f-]{36}$/);
    await page.waitForSelector(`#timeline-run:has-text("${runId}")`);
    return runId!;
  }

  afterAll(async () => {
    await browser?.close();
    await daemon?.stop();
    if (dir) removeDir(dir);
  });

  it('without the token the page and its API refuse', async () => {
    const res = await page.goto(`${base}/`);
    expect(res?.status()).toBe(401);
    expect(await page.textContent('body')).toContain('AAOS_ERR_HTTP_UNAUTHORIZED');
    for (const path of ['/api/agents', '/api/runs', '/api/events', '/console/app.js', '/metrics'])
      expect((await fetch(`${base}${path}`)).status, path).toBe(401);
    const post = await fetch(`${base}/api/submit`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"goal":"x"}',
    });
    expect(post.status).toBe(401);
    expect((await page.goto(`${base}/login?code=forged.1.x`))?.status()).toBe(401);
  });

  it('signs in once from the URL agentd console prints; the URL does not carry the token', async () => {
    const url = await signInUrl(dir);
    const token = readFileSync(join(dir, 'http-token'), 'utf8').trim();
    expect(url.startsWith(`${base}/login?code=`)).toBe(true);
    expect(url).not.toContain(token);
    await page.goto(url);
    expect(new URL(page.url()).pathname).toBe('/');
    await page.waitForSelector('#live.live');
    const cookie = (await page.context().cookies()).find((c) => c.name === 'aaos_token')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    // used once: a second browser cannot reuse it
    const other = await browser.newPage();
    expect((await other.goto(url))?.status()).toBe(401);
    await other.close();
    // a state change by GET is refused even with the cookie
    const get = await page.evaluate(async () => (await fetch('/api/submit')).status);
    expect(get).toBe(400);
  });

  it('submits a goal, watches it reach completed live, and shows the denial, the children and the tokens', async () => {
    const runId = await submitFromPage('Report on the bike-share pilot.');
    expect(runId).toMatch(/^[0-9a-f-]{36}$/);
    await page.waitForSelector(`#runs li[data-run-id="${runId}"] .state-completed`, { timeout: 60_000 });
    await page.waitForSelector('#timeline li[data-type="RunCompleted"]');
    const denial = await page.textContent('#timeline li.kind-denied');
    expect(denial).toContain('DENIED');
    expect(denial).toContain('/var/www');
    expect(await page.locator('#timeline li.kind-tool').count()).toBeGreaterThan(2);
    expect(await page.locator('#timeline li.kind-model').count()).toBeGreaterThan(2);
    expect(await page.textContent('#timeline')).toContain('child researcher spawned');
    expect(await page.textContent('#timeline-summary')).toMatch(
      /completed · tokens \d+ in \/ \d+ out · 2 children · 1 denials/,
    );
    const report = join(dir, 'workspace', runId, 'report.md');
    expect(existsSync(report)).toBe(true);
    // the agent tree shows the bootstrap agent with its model, capabilities and heap
    const bootstrap = page.locator('.agent[data-agent-name="bootstrap"]');
    await expect.poll(async () => bootstrap.textContent()).toMatch(/bootstrap.*running.*capabilities · [\d.]+ MB heap/);
    await page.screenshot({ path: join(shots, 'console-run.png'), fullPage: true });
  });

  it('approves a pending call from the page and the write happens; revoke removes a capability', async () => {
    const client = await RawClient.open(daemon.socket);
    const { agent_id } = await client.call<{ agent_id: string }>('agent.spawn', { manifest: writerManifest(dir) });
    const target = join(dir, 'out', 'approved.txt');
    const reply = client.send('agent.run', { agent_id, message: target });
    await page.waitForSelector('#approvals li.approval');
    expect(await page.textContent('#approvals li.approval')).toContain('careful-writer wants file_write');
    expect(existsSync(target)).toBe(false);
    await page.screenshot({ path: join(shots, 'console-approval.png'), fullPage: true });
    await page.click('#approvals li.approval button[data-action="approve"]');
    const res = await client.response<{ result: { response: string } }>(reply);
    expect(res.result.response).toContain('tool said');
    expect(readFileSync(target, 'utf8')).toBe('written after approval');
    await page.waitForSelector('#approvals-count:has-text("0")');

    // the agent's capabilities, then one revoked from the page
    await page.click(`.agent[data-agent-id="${agent_id}"]`);
    await page.waitForSelector('#capabilities li[data-capability="tool: file_write"]');
    await page.click('#capabilities li[data-capability="tool: file_write"] button[data-action="revoke"]');
    await page.waitForSelector('#capabilities li[data-capability="tool: file_write"]', { state: 'detached' });
    const caps = await client.call<{ tokens: Array<{ capability: { kind: string }; revoked_at?: number }> }>(
      'capability.list',
      { agent_id },
    );
    expect(caps.tokens.find((t) => t.capability.kind === 'tool')?.revoked_at).toEqual(expect.any(Number));
    client.close();
  });

  it('shows what agents and goals say as text: markup from a hostile goal or model never runs', async () => {
    const payload = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script> Report';
    const runId = await submitFromPage(payload);
    await page.waitForSelector(`#runs li[data-run-id="${runId}"]`);
    expect(await page.textContent(`#runs li[data-run-id="${runId}"]`)).toContain('<img src=x');
    expect(await page.locator('#runs img, #timeline img, #runs script, #timeline script').count()).toBe(0);
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    await page.waitForSelector(
      `#runs li[data-run-id="${runId}"] .state-completed, #runs li[data-run-id="${runId}"] .state-failed`,
      { timeout: 60_000 },
    );
  });
});
