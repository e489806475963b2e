import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MIN_NODE_MAJOR, unsupportedNode } from '../../src/cli/node-version.js';

describe('supported Node.js versions', () => {
  it('refuses older majors with a message naming both versions, accepts the declared ones', () => {
    expect(unsupportedNode('18.19.1')).toMatch(/needs Node\.js 20 or newer.*18\.19\.1/);
    expect(unsupportedNode('20.0.0')).toBeUndefined();
    expect(unsupportedNode('22.12.0')).toBeUndefined();
    expect(unsupportedNode(process.versions.node)).toBeUndefined();
  });

  it('matches what package.json declares in engines', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      engines: { node: string };
    };
    expect(pkg.engines.node).toBe(`>=${MIN_NODE_MAJOR}.0.0`);
  });
});
