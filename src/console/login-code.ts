import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const PURPOSE = 'aaos-console-login';
const LOGIN_CODE_TTL_MS = 10 * 60_000;

function mac(token: string, body: string): string {
  return createHmac('sha256', token).update(`${PURPOSE}:${body}`).digest('base64url');
}

/**
 * A one-time sign-in code for the console URL that `agentd console` prints: a nonce and an
 * expiry signed with the token. The URL never carries the token itself (browser history,
 * screen shares); the listener trades a fresh code once for the `aaos_token` cookie.
 */
export function makeLoginCode(token: string, now = Date.now(), ttlMs = LOGIN_CODE_TTL_MS): string {
  const body = `${randomBytes(12).toString('base64url')}.${now + ttlMs}`;
  return `${body}.${mac(token, body)}`;
}

/** Remembers used codes until they expire, so each one signs in once. */
export class LoginCodes {
  private readonly used = new Map<string, number>();

  constructor(
    private readonly token: string,
    private readonly clock: () => number = Date.now,
  ) {}

  /** True once for a well-signed, unexpired, unused code. */
  redeem(code: string): boolean {
    const now = this.clock();
    for (const [nonce, expiry] of this.used) if (expiry <= now) this.used.delete(nonce);
    const m = /^([A-Za-z0-9_-]{16})\.(\d{13})\.([A-Za-z0-9_-]{43})$/.exec(code);
    if (!m) return false;
    const [, nonce, expiryText, sig] = m as unknown as [string, string, string, string];
    const expected = Buffer.from(mac(this.token, `${nonce}.${expiryText}`));
    if (!timingSafeEqual(expected, Buffer.from(sig))) return false;
    const expiry = Number(expiryText);
    if (expiry <= now || expiry > now + LOGIN_CODE_TTL_MS || this.used.has(nonce)) return false;
    this.used.set(nonce, expiry);
    return true;
  }
}
