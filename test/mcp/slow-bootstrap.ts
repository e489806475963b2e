import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A bootstrap agent whose scripted model takes a few slow turns with a tool call in each. */
export function slowBootstrap(dir: string, latencyMs = 300): string {
  writeFileSync(
    join(dir, 'slow.script.yaml'),
    `latency_ms: ${latencyMs}\ncursor: per_run\nturns:\n${[1, 2, 3].map((i) => `  - tool_calls:\n      - name: echo\n        input: {message: "step ${i}"}\n`).join('')}  - text: "finished {message}"\n`,
  );
  writeFileSync(
    join(dir, 'slow.yaml'),
    'name: bootstrap\nmodel: scripted:slow.script.yaml\nlifecycle: persistent\nsystem_prompt: slow\ncapabilities:\n  - "tool: echo"\n',
  );
  return join(dir, 'slow.yaml');
}
