import { mkdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { posix } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Capability, CapabilityRequest, Constraints } from '../../src/capability/capability.js';
import { permits } from '../../src/capability/capability-match.js';
import type { CallContext } from '../../src/audit/call-context.js';
import { CapabilityTable } from '../../src/capability/capability-table.js';
import type { TokenView } from '../../src/capability/capability-token.js';
import { inheritApprovals } from '../../src/kernel/inherited-approvals.js';
import { isWithin } from '../../src/capability/path-match.js';
import type { AgentManifest } from '../../src/manifest/schema.js';
import { createFileReadTool } from '../../src/tools/fs/file-read.js';
import { makeKit, tempDir } from '../tools/fs/fs-test-kit.js';

/**
 * Property tests of the capability algebra. `npm test` runs a bounded number of cases;
 * `AAOS_FUZZ_RUNS=1000000 npx vitest run test/security` runs a million of each.
 */
const RUNS = Number(process.env['AAOS_FUZZ_RUNS'] ?? 300);
// a million cases take hours: no practical limit then
const LONG = { timeout: RUNS > 10_000 ? 86_400_000 : 120_000 };

// a small universe, so that random grants and requests overlap often
const ROOT = '/aaos-fuzz-nonexistent';
const DIRS = [ROOT, `${ROOT}/a`, `${ROOT}/a/b`, `${ROOT}/c`, `${ROOT}/a-b`];
const FILES = [...DIRS, `${ROOT}/a/x`, `${ROOT}/a/b/y`, `${ROOT}/c/z`, `${ROOT}/a-b/w`, '/etc/passwd'];
const HOSTS = ['a.com', 'b.com', '::1'];
const TOOLS = ['echo', 'file_read', 'web_fetch'];

const glob = fc.tuple(fc.constantFrom(...DIRS), fc.constantFrom('', '/*', '/**')).map(([d, s]) => d + s);
const capability: fc.Arbitrary<Capability> = fc.oneof(
  glob.map((g) => ({ kind: 'file_read' as const, glob: g })),
  glob.map((g) => ({ kind: 'file_write' as const, glob: g })),
  fc
    .oneof(fc.constant(['*']), fc.subarray(HOSTS, { minLength: 1 }))
    .map((hosts) => ({ kind: 'network' as const, hosts: [...hosts] })),
  fc.constantFrom('*', ...TOOLS).map((name) => ({ kind: 'tool' as const, name })),
);
const constraints: fc.Arbitrary<Constraints> = fc
  .option(fc.integer({ min: 1, max: 4 }), { nil: undefined })
  .map((m) => (m === undefined ? {} : { max_invocations: m }));
const grants = (min: number, max: number) =>
  fc.array(fc.record({ capability, constraints }), { minLength: min, maxLength: max });
const request: fc.Arbitrary<CapabilityRequest> = fc.oneof(
  fc.constantFrom(...FILES).map((path) => ({ kind: 'file_read' as const, path })),
  fc.constantFrom(...FILES).map((path) => ({ kind: 'file_write' as const, path })),
  fc.constantFrom(...HOSTS, 'evil.com').map((host) => ({ kind: 'network' as const, host })),
  fc.constantFrom(...TOOLS, 'spawn_agent').map((name) => ({ kind: 'tool' as const, name })),
);
type Action =
  | { kind: 'use'; agent: number; request: CapabilityRequest }
  | { kind: 'revoke'; agent: number; pick: number };
const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('use' as const), agent: fc.nat(3), request }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('revoke' as const), agent: fc.nat(3), pick: fc.nat(8) }) },
);

describe('capability algebra (fast-check)', () => {
  it(
    'a descendant never gets authority outside its ancestors, its pools hold for the whole tree, and revocation reaches every delegated copy',
    LONG,
    () => {
      fc.assert(
        fc.property(
          grants(1, 5),
          fc.array(grants(0, 4), { minLength: 1, maxLength: 3 }),
          fc.array(action, { maxLength: 30 }),
          (rootGrants, levels, actions) => {
            const table = new CapabilityTable(() => {});
            const agents: CallContext[] = [{ id: 'a0', name: 'root' }];
            for (const g of rootGrants) table.issue(agents[0]!, g);
            levels.forEach((level, i) => {
              const child: CallContext = { id: `a${i + 1}`, name: `child${i + 1}`, parentId: agents[i]!.id };
              try {
                table.delegate(agents[i]!, child, level);
              } catch {
                table.delegate(agents[i]!, child, []); // not delegable: all or nothing, the child holds nothing
              }
              agents.push(child);
            });
            const byId = (): Map<string, TokenView> =>
              new Map(agents.flatMap((a) => table.list(a.id)).map((t) => [t.id, t]));
            const lineage = (id: string, all: Map<string, TokenView>): TokenView[] => {
              const out: TokenView[] = [];
              for (let t = all.get(id); t !== undefined; t = t.parent_token_id ? all.get(t.parent_token_id) : undefined)
                out.push(t);
              return out;
            };
            const usesThrough = new Map<string, number>();
            const revoked = new Set<string>();
            for (const act of actions) {
              const agent = agents[act.agent % agents.length]!;
              if (act.kind === 'revoke') {
                const tokens = table.list(agent.id);
                const token = tokens[act.pick % Math.max(1, tokens.length)];
                if (token !== undefined && table.revoke(token.id, 'fuzz')) revoked.add(token.id);
                continue;
              }
              let used: TokenView;
              try {
                used = table.authorize(agent, act.request);
              } catch {
                continue;
              }
              const all = byId();
              const line = lineage(used.id, all);
              // 1. within every ancestor: the token it was delegated from (all the way up) permits it
              for (const t of line) expect(permits(t.capability, act.request)).toBe(true);
              expect(line.at(-1)?.owner).toBe('a0');
              // 2. never through a revoked token, or one delegated from a revoked token
              for (const t of line) expect(revoked.has(t.id)).toBe(false);
              // 3. one pool per delegation tree: uses through a token never exceed its limit
              for (const t of line) {
                const n = (usesThrough.get(t.id) ?? 0) + 1;
                usesThrough.set(t.id, n);
                if (t.constraints.max_invocations !== undefined)
                  expect(n).toBeLessThanOrEqual(t.constraints.max_invocations);
              }
            }
          },
        ),
        { numRuns: RUNS },
      );
    },
  );

  it('approval_required only grows down a delegation chain', LONG, () => {
    const tools = fc.uniqueArray(fc.constantFrom('file_write', 'file_edit', 'web_fetch', 'echo', 'spawn_agent'), {
      maxLength: 5,
    });
    fc.assert(
      fc.property(fc.array(tools, { minLength: 1, maxLength: 5 }), (chain) => {
        let parent = { approval_required: chain[0]! } as Pick<AgentManifest, 'approval_required'>;
        const ancestors = [...chain[0]!];
        for (const own of chain.slice(1)) {
          const child = inheritApprovals({ approval_required: own } as AgentManifest, parent);
          for (const tool of ancestors) expect(child.approval_required).toContain(tool);
          for (const tool of own) expect(child.approval_required).toContain(tool);
          ancestors.push(...own);
          parent = child;
        }
      }),
      { numRuns: RUNS },
    );
  });

  describe('random paths (.., //, ., unicode, symlink components) never reach outside every grant', () => {
    let tmp: ReturnType<typeof tempDir>;
    let grant: string;
    beforeAll(() => {
      tmp = tempDir('aaos-fuzz-');
      grant = `${tmp.dir}/grant`;
      mkdirSync(`${grant}/sub/ü`, { recursive: true });
      mkdirSync(`${tmp.dir}/outside`);
      mkdirSync(`${tmp.dir}/grant-sibling`);
      writeFileSync(`${grant}/f.txt`, 'inside\n');
      writeFileSync(`${grant}/sub/ü/g.txt`, 'inside\n');
      writeFileSync(`${tmp.dir}/outside/secret.txt`, 'SECRET\n');
      writeFileSync(`${tmp.dir}/grant-sibling/secret.txt`, 'SECRET\n');
      symlinkSync(`${tmp.dir}/outside`, `${grant}/link`);
      symlinkSync(`${tmp.dir}/outside/secret.txt`, `${grant}/sub/secret.txt`);
    });
    afterAll(() => tmp.cleanup());

    const segment = fc.constantFrom(
      '..',
      '.',
      '',
      'grant',
      'sub',
      'ü',
      'link',
      'secret.txt',
      'f.txt',
      'g.txt',
      'outside',
      'grant-sibling',
      'u\u0308',
      '%2e%2e',
      '...',
    );
    const relative = fc.array(segment, { minLength: 1, maxLength: 7 }).map((parts) => parts.join('/'));

    it('authorize never allows a path lexically outside the grant', LONG, () => {
      const table = new CapabilityTable(() => {});
      const agent = { id: 'p', name: 'paths' };
      table.issue(agent, { capability: { kind: 'file_read', glob: `${grant}/*` }, constraints: {} });
      fc.assert(
        fc.property(relative, (rel) => {
          const path = `${tmp.dir}/${rel}`;
          if (table.check(agent.id, { kind: 'file_read', path }))
            expect(isWithin(grant, posix.resolve(path))).toBe(true);
        }),
        { numRuns: RUNS },
      );
    });

    it('file_read through the real tool never returns a file outside the grant', LONG, async () => {
      const kit = makeKit();
      kit.grant({ kind: 'file_read', glob: `${grant}/*` });
      const tool = createFileReadTool();
      const realGrant = realpathSync(grant);
      await fc.assert(
        fc.asyncProperty(relative, async (rel) => {
          const path = `${tmp.dir}/${rel}`;
          let out: { content: string };
          try {
            out = (await kit.call(tool, { path })) as { content: string };
          } catch {
            return;
          }
          expect(out.content).not.toContain('SECRET');
          expect(isWithin(realGrant, realpathSync(posix.resolve(path)))).toBe(true);
        }),
        { numRuns: RUNS },
      );
    });
  });
});
