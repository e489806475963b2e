import { AaosError, ErrorCode } from '../errors/index.js';
import type { ToolDefinition } from '../providers/model.js';
import type { Tool } from './tool.js';

/** Name → tool. Registering a name twice is a programming error, not a silent replace. */
export class ToolRegistry {
  private readonly tools = new Map<string, Tool>();
  /** names() sorted once per change, not once per model call */
  private sorted: string[] | undefined;

  register(...tools: Tool[]): this {
    for (const tool of tools) {
      const name = tool.definition.name;
      if (this.tools.has(name)) throw new AaosError(ErrorCode.INTERNAL, `tool '${name}' is registered twice`);
      this.tools.set(name, tool);
    }
    this.sorted = undefined;
    return this;
  }

  /** Tools that come and go at run time (an MCP server's list changed); unknown names are ignored. */
  remove(...names: string[]): void {
    for (const name of names) this.tools.delete(name);
    this.sorted = undefined;
  }

  get(name: string): Tool | undefined {
    return this.tools.get(name);
  }

  require(name: string): Tool {
    const tool = this.tools.get(name);
    if (!tool) {
      throw new AaosError(
        ErrorCode.TOOL_NOT_FOUND,
        `no tool named '${name}' (registered: ${this.names().join(', ')})`,
        { tool: name },
      );
    }
    return tool;
  }

  names(): string[] {
    return [...this.sortedNames()];
  }

  private sortedNames(): readonly string[] {
    return (this.sorted ??= [...this.tools.keys()].sort());
  }

  definitions(filter?: (name: string) => boolean): ToolDefinition[] {
    const out: ToolDefinition[] = [];
    for (const name of this.sortedNames()) {
      if (!filter || filter(name)) out.push(this.tools.get(name)!.definition);
    }
    return out;
  }
}
