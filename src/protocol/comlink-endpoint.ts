import type { Endpoint } from 'comlink';
import type { MessagePort } from 'node:worker_threads';

type Listener = Parameters<Endpoint['addEventListener']>[1];

/**
 * Comlink speaks the browser MessagePort shape (`addEventListener`, `{data}` events);
 * Node's ports emit the payload directly. This bridges the two for one port.
 */
export function comlinkEndpoint(port: MessagePort): Endpoint {
  const wrapped = new Map<Listener, (data: unknown) => void>();
  return {
    postMessage: (message: unknown, transfer?: readonly unknown[]) => port.postMessage(message, transfer as never),
    addEventListener: (_type: string, listener: Listener) => {
      const fn = (data: unknown): void => {
        const event = { data } as Parameters<Extract<Listener, (e: never) => unknown>>[0];
        if (typeof listener === 'function') listener(event);
        else listener.handleEvent(event);
      };
      wrapped.set(listener, fn);
      port.on('message', fn);
    },
    removeEventListener: (_type: string, listener: Listener) => {
      const fn = wrapped.get(listener);
      if (!fn) return;
      wrapped.delete(listener);
      port.off('message', fn);
    },
    start: () => port.start(),
  };
}
