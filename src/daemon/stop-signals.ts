/** The signals that stop the daemon. SIGHUP (terminal closed, or an operator's HUP) drains like SIGTERM: there is no configuration to reload. */
const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

/**
 * Handles the stop signals for the process's life, so none of them ever kills it by
 * default action: the first one calls `first` (an orderly drain), every later one calls
 * `again` (force a fast stop). Returns the remover.
 */
export function onStopSignals(first: (signal: StopSignal) => void, again: (signal: StopSignal) => void): () => void {
  let seen = 0;
  const handlers = STOP_SIGNALS.map((signal) => {
    const handler = (): void => {
      seen += 1;
      if (seen === 1) first(signal);
      else again(signal);
    };
    process.on(signal, handler);
    return () => process.off(signal, handler);
  });
  return () => {
    for (const off of handlers) off();
  };
}
