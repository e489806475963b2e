import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validate } from 'dockerfile-utils';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../daemon/daemon-process.js';

describe('Dockerfile', () => {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

  it('passes the dockerfile-utils linter with no problems', () => {
    const problems = validate(text).map((d) => `line ${d.range.start.line + 1}: ${d.message}`);
    expect(problems).toEqual([]);
  });

  it('has the shape the container check and operators rely on', () => {
    expect(text).toMatch(/^ARG NODE_IMAGE=node:22-[a-z]+-slim$/m);
    expect(text.match(/^FROM \$\{NODE_IMAGE\}/gm)).toHaveLength(2);
    expect(text).toMatch(/^RUN npm ci\b/m);
    expect(text).toMatch(/npm prune --omit=dev/);
    expect(text).toMatch(/^USER node$/m);
    expect(text).toMatch(/^VOLUME \["\/data"\]$/m);
    expect(text).toMatch(/^HEALTHCHECK .*agentd", "health"/m);
    expect(text).toMatch(/^ENTRYPOINT \["\/usr\/bin\/tini", "--", "agentd"\]$/m);
    expect(text).toMatch(/^CMD \["run", "--bootstrap", "\/app\/manifests\/bootstrap.yaml", "--stdin"\]$/m);
  });
});
