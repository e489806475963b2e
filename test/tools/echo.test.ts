import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors/index.js';
import { createEchoTool } from '../../src/tools/echo.js';
import type { ToolContext } from '../../src/tools/tool.js';

const ctx = {} as ToolContext;

describe('echo', () => {
  it('returns the message', async () => {
    await expect(createEchoTool().invoke({ message: 'hi' }, ctx)).resolves.toEqual({ message: 'hi' });
  });

  it('requires a message', async () => {
    await expect(createEchoTool().invoke({}, ctx)).rejects.toMatchObject({ code: ErrorCode.TOOL_INPUT_INVALID });
  });
});
