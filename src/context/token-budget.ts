import { parseContextWindow } from './context-window.js';

/** How many tokens one model request of an agent may use. */
export interface TokenBudget {
  maxTokens: number;
}

/**
 * The agent's budget: its manifest `context_window` ("128k" or a number), capped by the
 * model's own window; the model's window when the manifest sets none.
 */
export function tokenBudget(contextWindow: string | number | undefined, modelMaxTokens: number): TokenBudget {
  if (contextWindow === undefined) return { maxTokens: modelMaxTokens };
  return { maxTokens: parseContextWindow(contextWindow, modelMaxTokens) };
}
