import type { Message, ToolUseBlock } from '../providers/model.js';
import type { JournalEntry } from '../store/run-journal.js';

/** How a run continues after a restart. */
export interface ResumePlan {
  /** the run's conversation so far: its user turn, every stored model turn and tool result */
  messages: Message[];
  /** results made up for calls that were in flight and may not run twice (also to be journaled) */
  interrupted: Extract<Message, { role: 'tool_result' }>[];
  /** calls of the last model turn the agent still has to make: never started, or idempotent and in flight */
  pending: ToolUseBlock[];
  modelTurns: number;
}

/**
 * Rebuilds a run from its journal. Completed tool calls keep their stored results and are
 * not made again. Of the last model turn's calls without a result: one that never started
 * is simply made; one that started (it may or may not have taken effect) is made again only
 * when its tool is idempotent, otherwise the model is told it was interrupted.
 */
export function resumeTranscript(
  userText: string,
  entries: readonly JournalEntry[],
  isIdempotent: (tool: string) => boolean,
): ResumePlan {
  const messages: Message[] = [{ role: 'user', content: userText }];
  const started = new Set<string>();
  const answered = new Set<string>();
  let lastTurn: ToolUseBlock[] = [];
  let modelTurns = 0;
  for (const entry of entries) {
    if (entry.kind === 'assistant') {
      messages.push({ role: 'assistant', content: entry.content });
      lastTurn = entry.content.filter((b): b is ToolUseBlock => b.type === 'tool_use');
      modelTurns++;
    } else if (entry.kind === 'tool_started') {
      started.add(entry.tool_use_id);
    } else if (!answered.has(entry.tool_use_id)) {
      answered.add(entry.tool_use_id);
      messages.push({
        role: 'tool_result',
        tool_use_id: entry.tool_use_id,
        content: entry.content,
        is_error: entry.is_error,
      });
    }
  }
  const interrupted: ResumePlan['interrupted'] = [];
  const pending: ToolUseBlock[] = [];
  for (const call of lastTurn) {
    if (answered.has(call.id)) continue;
    if (started.has(call.id) && !isIdempotent(call.name)) {
      const result = {
        role: 'tool_result' as const,
        tool_use_id: call.id,
        content: `AAOS_ERR_TOOL_INTERRUPTED: the call to '${call.name}' was running when the daemon stopped; it may or may not have taken effect, and it was not run again because '${call.name}' is not idempotent. Check its effect before repeating it.`,
        is_error: true,
      };
      interrupted.push(result);
      messages.push(result);
    } else {
      pending.push(call);
    }
  }
  return { messages, interrupted, pending, modelTurns };
}
