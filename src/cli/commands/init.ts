import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { AGENT_NAME_PATTERN, AGENT_NAME_RULE } from '../../manifest/schema.js';
import { ExitCode } from '../exit-codes.js';
import { usageError } from '../usage.js';

const DEFAULT_INIT_NAME = 'my-agent';

/** The two starter files for `name`: the manifest and the scripted model it names. */
function starterFiles(name: string): Array<{ file: string; text: string }> {
  const script = `${name}.script.yaml`;
  const manifest = [
    `# ${name}: a starter agent written by \`agentd init\`.`,
    `#   agentd validate --bootstrap ${name}.yaml              check it (tools, script, bootstrap rules)`,
    `#   echo "a goal" | agentd run --bootstrap ${name}.yaml --stdin    one goal with it as the bootstrap agent`,
    `#   agentd spawn ${name}.yaml && agentd ask ${name} "hello"      or beside a running daemon's bootstrap`,
    '# Format and capability syntax: manifests/examples/README.md of aaos.',
    `name: ${name}`,
    `# The offline scripted model: it replays ${script} whatever the goal says (docs/scripted-model.md).`,
    '# For a real model set e.g. `model: claude-sonnet-4-5` and ANTHROPIC_API_KEY.',
    `model: scripted:${script}`,
    'lifecycle: persistent        # stays and takes messages (and goals, as a bootstrap agent) until stopped',
    'system_prompt: You answer requests carefully and write what you produce to the run workspace.',
    'capabilities:                # default deny: the agent can do only what is listed here',
    '  - "tool: file_list"',
    '  - "tool: file_write"',
    '  - "file_read: {data_dir}/inbox/*"',
    '  - "file_write: {data_dir}/workspace/*"',
    '',
  ].join('\n');
  const turns = [
    `# The scripted model of ${name} (docs/scripted-model.md): these turns are replayed for every`,
    '# message, whatever it says; only the placeholders change. Replace the model for real answers.',
    'cursor: per_run               # every message starts again at the first turn',
    'turns:',
    '  - text: "Looking at the inbox first."',
    '    tool_calls:',
    '      - name: file_list',
    '        input: { path: "{data_dir}/inbox" }',
    '  - tool_calls:',
    '      - name: file_write',
    '        input:',
    '          path: "{workspace}/answer.md"',
    '          content: |',
    `            # Answer of ${name}`,
    '',
    `            Written by the scripted model of ${name}, which replays ${script} and does not read the request.`,
    '            Files in the inbox: {last_tool_result:entries.*.name}',
    '',
    '            The request, as the agent received it:',
    '',
    '            {message}',
    '  - text: "Done: the answer is in {workspace}/answer.md"',
    '',
  ].join('\n');
  return [
    { file: `${name}.yaml`, text: manifest },
    { file: script, text: turns },
  ];
}

export function registerInit(program: Command): void {
  program
    .command('init')
    .description(
      'write a starter agent into the current directory: <name>.yaml and the scripted model <name>.script.yaml',
    )
    .argument('[name]', `the agent's name (${AGENT_NAME_RULE})`, DEFAULT_INIT_NAME)
    .action((name: string) => {
      if (!AGENT_NAME_PATTERN.test(name)) return usageError('init', `the name '${name}' ${AGENT_NAME_RULE}`);
      const files = starterFiles(name).map((f) => ({ ...f, path: resolve(f.file) }));
      const taken = files.filter((f) => existsSync(f.path));
      if (taken.length > 0) {
        return usageError(
          'init',
          `will not overwrite ${taken.map((f) => f.path).join(' and ')}; move ${taken.length === 1 ? 'it' : 'them'} away or choose another name (agentd init <name>)`,
        );
      }
      // 'wx': a file that appeared since the check is still never overwritten
      for (const f of files) writeFileSync(f.path, f.text, { flag: 'wx' });
      process.stdout.write(
        [
          ...files.map((f) => `wrote ${f.path}`),
          'next:',
          `  agentd validate --bootstrap ${name}.yaml`,
          `  echo "your goal" | agentd run --bootstrap ${name}.yaml --stdin`,
          '',
        ].join('\n'),
      );
      process.exitCode = ExitCode.OK;
    });
}
