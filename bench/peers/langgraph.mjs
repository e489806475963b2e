// The fan-out workload (lib/fanout-workload.mjs) on LangGraph.js.
// Parent graph: `root` calls the fake chat model, which answers with N tool calls; a
// conditional edge maps each tool call to `Send('child', …)`, so the N child nodes run in
// one superstep; their answers come back to `root` as ToolMessages, and root answers.
// Each child node runs its own compiled agent subgraph (model → ToolNode → model …) that
// makes 3 echo tool calls and then answers. Models are a BaseChatModel subclass with a
// fixed latency; nothing leaves the process.

import { childTurn, rootTurn, childIndexOf, ECHO_TOOL } from '../lib/fanout-workload.mjs';

export const name = 'langgraph';

export async function load() {
  // LangSmith tracing is opt-in by env; make sure it stays off (no network).
  process.env.LANGCHAIN_TRACING_V2 = 'false';
  process.env.LANGSMITH_TRACING = 'false';
  const lg = await import('@langchain/langgraph');
  const prebuilt = await import('@langchain/langgraph/prebuilt');
  const { BaseChatModel } = await import('@langchain/core/language_models/chat_models');
  const messages = await import('@langchain/core/messages');
  const { tool } = await import('@langchain/core/tools');
  const { z } = await import('zod');
  return {
    lg,
    prebuilt,
    BaseChatModel,
    messages,
    tool,
    z,
    packages: ['@langchain/langgraph', '@langchain/core', 'zod'],
  };
}

let callSeq = 0;

function makeFakeChatModel(lib) {
  const { BaseChatModel, messages } = lib;
  const { AIMessage } = messages;

  const isTool = (m) => (typeof m._getType === 'function' ? m._getType() : m.type) === 'tool';
  const isHuman = (m) => (typeof m._getType === 'function' ? m._getType() : m.type) === 'human';

  return class FakeChatModel extends BaseChatModel {
    constructor({ role, latencyMs, counters, n }) {
      super({});
      this.role = role;
      this.latencyMs = latencyMs;
      this.counters = counters;
      this.n = n;
    }

    _llmType() {
      return 'aaos-bench-fake';
    }

    // Tools are fixed by the script; binding only has to return a runnable model.
    bindTools() {
      return this;
    }

    async _generate(msgs) {
      const toolMsgs = msgs.filter(isTool);
      let message;
      if (this.role === 'child') {
        await this.counters.childModelCall(this.latencyMs);
        const task = String(msgs.find(isHuman)?.content ?? '');
        const turn = childTurn(task, toolMsgs.length);
        message = turn.tool
          ? new AIMessage({
              content: '',
              tool_calls: [{ id: `call_${++callSeq}`, name: turn.tool.name, args: turn.tool.args, type: 'tool_call' }],
            })
          : new AIMessage({ content: turn.final });
      } else {
        await this.counters.rootModelCall(this.latencyMs);
        const turn = rootTurn(this.n, toolMsgs.length);
        if (turn.fanout) {
          message = new AIMessage({
            content: '',
            tool_calls: turn.fanout.map((task) => ({
              id: `call_${++callSeq}`,
              name: 'child_agent',
              args: { input: task },
              type: 'tool_call',
            })),
          });
        } else {
          for (const m of toolMsgs) {
            const idx = childIndexOf(m.content);
            if (idx >= 0) this.counters.childrenFinished.add(idx);
          }
          message = new AIMessage({ content: turn.final });
        }
      }
      return { generations: [{ text: typeof message.content === 'string' ? message.content : '', message }] };
    }
  };
}

export function build(lib, { n, latencyMs, counters }) {
  const { lg, prebuilt, messages, tool, z } = lib;
  const { StateGraph, MessagesAnnotation, Send, START, END } = lg;
  const { ToolNode, toolsCondition } = prebuilt;
  const { HumanMessage, ToolMessage } = messages;
  const FakeChatModel = makeFakeChatModel(lib);

  const echo = tool(
    async ({ text }) => {
      counters.toolCalls++;
      return text;
    },
    { name: ECHO_TOOL, description: 'Returns its input text.', schema: z.object({ text: z.string() }) },
  );

  const childModel = new FakeChatModel({ role: 'child', latencyMs, counters }).bindTools([echo]);
  const childGraph = new StateGraph(MessagesAnnotation)
    .addNode('agent', async (state) => ({ messages: [await childModel.invoke(state.messages)] }))
    .addNode('tools', new ToolNode([echo]))
    .addEdge(START, 'agent')
    .addConditionalEdges('agent', toolsCondition, ['tools', END])
    .addEdge('tools', 'agent')
    .compile();

  const rootModel = new FakeChatModel({ role: 'root', latencyMs, counters, n });
  const fanOut = (state) => {
    const last = state.messages[state.messages.length - 1];
    const calls = last?.tool_calls ?? [];
    return calls.length ? calls.map((call) => new Send('child', { call })) : END;
  };

  const graph = new StateGraph(MessagesAnnotation)
    .addNode('root', async (state) => ({ messages: [await rootModel.invoke(state.messages)] }))
    // A Send'd node gets the Send payload as its input, not the parent state.
    .addNode('child', async ({ call }) => {
      const out = await childGraph.invoke({ messages: [new HumanMessage(call.args.input)] });
      const answer = out.messages[out.messages.length - 1];
      return { messages: [new ToolMessage({ tool_call_id: call.id, content: String(answer.content) })] };
    })
    .addEdge(START, 'root')
    .addConditionalEdges('root', fanOut, ['child', END])
    .addEdge('child', 'root')
    .compile();

  return async () => {
    const out = await graph.invoke({ messages: [new HumanMessage('fan out')] }, { recursionLimit: 50 });
    return String(out.messages[out.messages.length - 1].content);
  };
}
