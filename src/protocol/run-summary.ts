import type { RunOutcome } from './messages.js';

/** What a caller is told of a finished run (the socket API's `agent.run`, a routed request's reply): never its transcript. */
export function runSummary(outcome: RunOutcome): Record<string, unknown> {
  return {
    run_id: outcome.run_id,
    agent_id: outcome.agent_id,
    response: outcome.response,
    stop_reason: outcome.stop_reason,
    iterations: outcome.iterations,
    usage: outcome.usage,
    elapsed_ms: outcome.elapsed_ms,
    error: outcome.error,
  };
}
