import { readSetting, type EnvRecord } from '../config/config.js';
import type { Supervisor } from '../kernel/supervisor.js';
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
    send: (senderId, to, method, params) => {
      const sup = supervisor();
      const sender = sup.agents.require(senderId);
      const envelope = makeEnvelope({ sender: sender.id, recipient: to, method, params });
      return sup.router.send({ id: sender.id, name: sender.name }, JSON.stringify(envelope));
    },
    request: async (senderId, to, method, params, timeoutMs) => {
      const sup = supervisor();
      const sender = sup.agents.require(senderId);
      const envelope = makeEnvelope({ sender: sender.id, recipient: to, method, params, request: true });
      const reply = (await sup.router.request({ id: sender.id, name: sender.name }, JSON.stringify(envelope), timeoutMs)) as {
        response?: string;
        stop_reason?: string;
      };
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
