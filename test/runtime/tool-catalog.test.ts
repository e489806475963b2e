import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Runtime } from '../../src/runtime/runtime.js';
import { registeredToolNames } from '../../src/runtime/tool-catalog.js';
import { removeDir } from '../daemon/daemon-process.js';

describe('the tool catalog agentd validate checks against', () => {
  it('names exactly the tools a live runtime registers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aaos-'));
    const runtime = await Runtime.open({ dataDir: dir, env: {} });
    try {
      const live = runtime
        .toolDefinitions()
        .map((d) => d.name)
        .sort();
      expect(registeredToolNames()).toEqual(live);
    } finally {
      await runtime.close('test');
      removeDir(dir);
    }
  });
});
