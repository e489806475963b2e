/** What the messaging tools need from the router, bound to the calling agent by id. */
export interface Messenger {
  send(senderId: string, to: string, method: string, params: unknown): Promise<{ status: 'delivered'; envelope_id: string }>;
  request(senderId: string, to: string, method: string, params: unknown, timeoutMs: number): Promise<unknown>;
}
