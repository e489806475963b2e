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

/** The tools every runtime registers (memory and skill tools need stores and are added beside these). */
export function builtinTools(env: EnvRecord, supervisor: () => Supervisor): Tool[] {
  const messenger: Messenger = {
    send: (caller, to, method, params) => {
      const sup = supervisor();
      const sender = sup.callerOf(caller.agentId, caller.deliveryRunId, caller.trace);
      const envelope = makeEnvelope({ sender: sender.id, recipient: to, method, params, ...(sender.trace ? { trace: sender.trace } : {}), ...(sender.runId ? { runId: sender.runId } : {}) });
      return sup.router.send(sender, JSON.stringify(envelope));
    },
    request: async (caller, to, method, params, timeoutMs) => {
      const sup = supervisor();
      const sender = sup.callerOf(caller.agentId, caller.deliveryRunId, caller.trace);
      const envelope = makeEnvelope({ sender: sender.id, recipient: to, method, params, request: true, ...(sender.trace ? { trace: sender.trace } : {}), ...(sender.runId ? { runId: sender.runId } : {}) });
      const reply = replyResult<{ response?: string; stop_reason?: string }>(await sup.router.request(sender, JSON.stringify(envelope), timeoutMs));
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
