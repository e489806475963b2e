import { AaosError, ErrorCode } from '../errors/index.js';

/** Why a signal was aborted, as an AaosError (CANCELLED unless the aborter gave one). */
export function abortReason(signal: AbortSignal, what: string): AaosError {
  const reason: unknown = signal.reason;
  if (reason instanceof AaosError) return reason;
  return new AaosError(ErrorCode.CANCELLED, `${what} was cancelled`);
}

/** setTimeout as a promise that rejects (CANCELLED) as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortReason(signal, 'wait'));
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortReason(signal as AbortSignal, 'wait'));
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
