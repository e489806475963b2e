/** What the messaging tools need from the router, bound to the calling agent by id. */
/** The calling agent and the delivery it calls from (so a message continues its trace and goal run). */
export interface MessengerCaller {
  agentId: string;
  spanId: string | undefined;
}

export interface Messenger {
  send(caller: MessengerCaller, to: string, method: string, params: unknown): Promise<{ status: 'delivered'; envelope_id: string }>;
  request(caller: MessengerCaller, to: string, method: string, params: unknown, timeoutMs: number): Promise<unknown>;
}
