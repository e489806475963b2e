import { AaosError, ErrorCode } from '../errors/index.js';

/** Agent lifecycle. `failed` and `stopped` are terminal. */
export const AgentState = {
  Starting: 'starting',
  Running: 'running',
  Paused: 'paused',
  Parked: 'parked',
  Stopping: 'stopping',
  Stopped: 'stopped',
  Failed: 'failed',
} as const;
export type AgentState = (typeof AgentState)[keyof typeof AgentState];

const ALLOWED: Record<AgentState, readonly AgentState[]> = {
  starting: ['running', 'stopping', 'failed'],
  running: ['paused', 'parked', 'stopping', 'failed'],
  paused: ['running', 'stopping', 'failed'],
  // a parked persistent agent has no worker; its next message starts one
  parked: ['starting', 'stopping', 'stopped'],
  stopping: ['stopped', 'failed'],
  stopped: [],
  failed: [],
};

function canTransition(from: AgentState, to: AgentState): boolean {
  return ALLOWED[from].includes(to);
}

export function assertTransition(agentId: string, from: AgentState, to: AgentState): void {
  if (!canTransition(from, to)) {
    throw new AaosError(ErrorCode.INVALID_STATE_TRANSITION, `agent ${agentId}: cannot go from ${from} to ${to}`, {
      agent_id: agentId,
      from,
      to,
    });
  }
}

export function isTerminal(state: AgentState): boolean {
  return state === 'stopped' || state === 'failed';
}
