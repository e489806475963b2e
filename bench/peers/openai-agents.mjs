// The fan-out workload (lib/fanout-workload.mjs) on the OpenAI Agents SDK for JS.
// The root agent gets the child agent as a tool (`agent.asTool`) and calls it N times in
// one turn; the SDK runs the function calls of one turn concurrently. Each child call is
// a separate run of the child agent with its own history. Models are fakes implementing
// the SDK's `Model` interface (getResponse / getStreamedResponse); nothing leaves the process.

import { childTurn, rootTurn, childIndexOf, ECHO_TOOL } from '../lib/fanout-workload.mjs';

export const name = 'openai_agents';

/** Loads the SDK; throws ERR_MODULE_NOT_FOUND when bench/node_modules is absent. */
export async function load() {
  const sdk = await import('@openai/agents');
  const { z } = await import('zod');
  // Tracing would try to export spans to a remote service: off, in code and by env.
  process.env.OPENAI_AGENTS_DISABLE_TRACING = '1';
  sdk.setTracingDisabled(true);
  return { sdk, z, packages: ['@openai/agents', '@openai/agents-core', 'openai', 'zod'] };
}

function inputItems(request) {
  return Array.isArray(request.input) ? request.input : [];
}

function firstUserText(request) {
  if (typeof request.input === 'string') return request.input;
  for (const item of inputItems(request)) {
    if (item.role !== 'user') continue;
    if (typeof item.content === 'string') return item.content;
    if (Array.isArray(item.content)) return item.content.map((c) => c.text ?? '').join('');
  }
  return '';
}

function assistantMessage(text) {
  return {
    type: 'message',
    role: 'assistant',
    status: 'completed',
    content: [{ type: 'output_text', text }],
  };
}

let callSeq = 0;

class FakeModel {
  constructor(role, latencyMs, counters, usageClass) {
    this.role = role;
    this.latencyMs = latencyMs;
    this.counters = counters;
    this.Usage = usageClass;
  }

  async getResponse(request) {
    const results = inputItems(request).filter((it) => it.type === 'function_call_result');
    let output;
    if (this.role === 'child') {
      await this.counters.childModelCall(this.latencyMs);
      const task = firstUserText(request);
      const turn = childTurn(task, results.length);
      if (turn.tool) {
        output = [
          {
            type: 'function_call',
            callId: `call_${++callSeq}`,
            name: turn.tool.name,
            arguments: JSON.stringify(turn.tool.args),
            status: 'completed',
          },
        ];
      } else {
        output = [assistantMessage(turn.final)];
      }
    } else {
      await this.counters.rootModelCall(this.latencyMs);
      const turn = rootTurn(this.n, results.length);
      if (turn.fanout) {
        output = turn.fanout.map((task) => ({
          type: 'function_call',
          callId: `call_${++callSeq}`,
          name: 'child_agent',
          arguments: JSON.stringify({ input: task }),
          status: 'completed',
        }));
      } else {
        // Each child answer arrives as one function_call_result; check that all N did.
        for (const r of results) {
          const text = typeof r.output === 'string' ? r.output : (r.output?.text ?? JSON.stringify(r.output));
          const idx = childIndexOf(text);
          if (idx >= 0) this.counters.childrenFinished.add(idx);
        }
        output = [assistantMessage(turn.final)];
      }
    }
    return { usage: new this.Usage(), output, responseId: `resp_${callSeq}` };
  }

  // biome-ignore lint/correctness/useYield: the peer's interface needs a generator; streaming is never called here
  async *getStreamedResponse() {
    throw new Error('streaming is not part of this benchmark');
  }
}

/** Builds the agents for one (n, latency) configuration; returns run() → final text. */
export function build(lib, { n, latencyMs, counters }) {
  const { sdk, z } = lib;
  const echo = sdk.tool({
    name: ECHO_TOOL,
    description: 'Returns its input text.',
    parameters: z.object({ text: z.string() }),
    execute: async ({ text }) => {
      counters.toolCalls++;
      return text;
    },
  });
  const childModel = new FakeModel('child', latencyMs, counters, sdk.Usage);
  const rootModel = new FakeModel('root', latencyMs, counters, sdk.Usage);
  rootModel.n = n;
  const child = new sdk.Agent({
    name: 'child',
    instructions: 'Call echo three times, then answer.',
    model: childModel,
    tools: [echo],
    modelSettings: { parallelToolCalls: true },
  });
  const root = new sdk.Agent({
    name: 'root',
    instructions: 'Fan the task out to the child agents, then summarise.',
    model: rootModel,
    tools: [child.asTool({ toolName: 'child_agent', toolDescription: 'Runs one child agent on a task.' })],
    modelSettings: { parallelToolCalls: true },
  });
  const runner = new sdk.Runner({ tracingDisabled: true });
  return async () => {
    const result = await runner.run(root, 'fan out', { maxTurns: 10 });
    return String(result.finalOutput);
  };
}
