// Bench agent: answers every delivered envelope at once (the other end of router requests).
export const agentModule = {
  init() {},
  async handle(delivery) {
    return {
      run_id: delivery.run.run_id,
      response: 'pong',
      stop_reason: 'complete',
      iterations: 0,
      transcript: [],
      error: null,
    };
  },
};
