import { traceParentOf, type CallContext } from '../audit/call-context.js';
import type { TraceParent } from '../audit/trace-ids.js';
import { readSetting, type EnvRecord } from '../config/config.js';
import type { Supervisor } from '../kernel/supervisor.js';
import { replyResult } from '../protocol/envelopes.js';
import { makeEnvelope } from '../router/envelope.js';
import { createEchoTool } from '../tools/echo.js';
import { createFsTools } from '../tools/fs/index.js';
import { createAskAgentTool } from '../tools/messaging/ask-agent.js';
import type { Messenger } from '../tools/messaging/messenger.js';
import { createSendMessageTool } from '../tools/messaging/send-message.js';
import { createSpawnAgentTool } from '../tools/spawn/spawn-agent.js';
import { createSpawnAgentsTool } from '../tools/spawn/spawn-agents.js';
import type { Tool } from '../tools/tool.js';
import { createWebFetchTool } from '../tools/web/web-fetch.js';

/** What an envelope's metadata says of the sender's trace and goal run (the router's own view wins). */
function envelopeTrace(sender: CallContext): { trace?: TraceParent; runId?: string } {
  const trace = traceParentOf(sender);
  return { ...(trace ? { trace } : {}), ...(sender.runId ? { runId: sender.runId } : {}) };
}

/** The tools every runtime registers (memory and skill tools need stores and are added beside these). */
export function builtinTools(env: EnvRecord, supervisor: () => Supervisor): Tool[] {
  const messenger: Messenger = {
    send: (sender, to, method, params) => {
      const envelope = makeEnvelope({ sender: sender.id, recipient: to, method, params, ...envelopeTrace(sender) });
      return supervisor().send(sender, JSON.stringify(envelope));
    },
    request: async (sender, to, method, params, timeoutMs) => {
      const envelope = makeEnvelope({
        sender: sender.id,
        recipient: to,
        method,
        params,
        request: true,
        ...envelopeTrace(sender),
      });
      const reply = replyResult<{ response?: string; stop_reason?: string }>(
        await supervisor().request(sender, JSON.stringify(envelope), timeoutMs),
      );
      return { from: to, response: reply.response ?? '', stop_reason: reply.stop_reason ?? 'complete' };
    },
  };
  const fsTools = createFsTools({
    search: {
      timeoutMs: readSetting(env, 'AAOS_SEARCH_TIMEOUT_MS'),
      threads: readSetting(env, 'AAOS_SEARCH_THREADS'),
    },
  });
  // prior_findings given as paths are read with the parent's own file_read grants
  const fileRead = fsTools.find((t) => t.definition.name === 'file_read')!;
  return [
    createEchoTool(),
    ...fsTools,
    createWebFetchTool(),
    createSpawnAgentTool(fileRead),
    createSpawnAgentsTool(fileRead, readSetting(env, 'AAOS_SPAWN_AGENTS_BATCH_CAP')),
    createSendMessageTool(messenger),
    createAskAgentTool(messenger),
  ];
}
