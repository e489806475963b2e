import type { CallContext } from '../../audit/call-context.js';

/**
 * What the messaging tools need from the router. `caller` is the tool call's context: the
 * message continues its trace (the hop is a child of the tool call's span) and its goal run.
 */
export interface Messenger {
  send(
    caller: CallContext,
    to: string,
    method: string,
    params: unknown,
  ): Promise<{ status: 'delivered'; envelope_id: string }>;
  request(caller: CallContext, to: string, method: string, params: unknown, timeoutMs: number): Promise<unknown>;
}
