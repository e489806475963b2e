import { describe, expect, it } from 'vitest';
import { InflightCalls } from '../../src/kernel/inflight-calls.js';

describe('InflightCalls: tool calls tracked where they run', () => {
  it('counts a call until it settles, success or failure; settle waits for the last one', async () => {
    const calls = new InflightCalls();
    let finish!: (v: string) => void;
    let fail!: (e: Error) => void;
    const a = calls.track(new Promise<string>((r) => (finish = r)));
    const b = calls.track(new Promise<string>((_r, j) => (fail = j))).catch((e: Error) => e.message);
    expect(calls.size).toBe(2);
    const settled = calls.settle(60_000);
    fail(new Error('boom'));
    expect(await b).toBe('boom');
    expect(calls.size).toBe(1);
    finish('done');
    expect(await a).toBe('done');
    expect(await settled).toBe(true);
    expect(calls.size).toBe(0);
    expect(await calls.settle(1)).toBe(true);
  });

  it('settle gives up after its timeout, and release ends every wait at once', async () => {
    const calls = new InflightCalls();
    void calls.track(new Promise(() => {}));
    expect(await calls.settle(5)).toBe(false);
    const waiting = calls.settle(60_000);
    calls.release();
    expect(await waiting).toBe(false);
    expect(calls.size).toBe(1);
  });
});
