import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { AuditInput } from '../../src/audit/event.js';
import { AaosError, ErrorCode } from '../../src/errors/index.js';
import type { Capability, CapabilityRequest, Constraints } from '../../src/capability/capability.js';
import type { CallContext } from '../../src/audit/call-context.js';
import { goalTraceId } from '../../src/audit/trace-ids.js';
import { CapabilityTable } from '../../src/capability/capability-table.js';
import { TokenView } from '../../src/capability/capability-token.js';

const parent: CallContext = { id: 'agent-parent', name: 'parent', runId: 'run-1' };
const child: CallContext = { id: 'agent-child', name: 'child', parentId: 'agent-parent', runId: 'run-1' };
const other: CallContext = { id: 'agent-other', name: 'other' };

let events: AuditInput[];
let now: number;
let table: CapabilityTable;

function grant(owner: CallContext, capability: Capability, constraints: Constraints = {}): string {
  return table.issue(owner, { capability, constraints }).id;
}

function denials(): AuditInput[] {
  return events.filter((e) => e.type === 'CapabilityDenied');
}

/** Runs a call that must throw an AaosError; returns it. */
function failure(fn: () => unknown): AaosError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AaosError);
    return err as AaosError;
  }
  throw new Error('expected an AaosError');
}

const readData: CapabilityRequest = { kind: 'file_read', path: '/data/project/file.txt' };

beforeEach(() => {
  events = [];
  now = 1_700_000_000_000;
  table = new CapabilityTable(
    (e) => events.push(e),
    () => now,
  );
});

describe('issue', () => {
  it('issues opaque handles and emits CapabilityGranted with the audit header', () => {
    const view = table.issue(parent, {
      capability: { kind: 'tool', name: 'file_read' },
      constraints: { max_invocations: 3 },
    });
    expect(view.id).toMatch(/^cap_[A-Za-z0-9_-]{22}$/);
    expect(view).toMatchObject({
      owner: parent.id,
      invocation_count: 0,
      issued_at: now,
      constraints: { max_invocations: 3 },
    });
    expect(TokenView.parse(view)).toEqual(view);
    expect(events).toEqual([
      {
        type: 'CapabilityGranted',
        agent_id: parent.id,
        agent_name: 'parent',
        run_id: 'run-1',
        // an event of a goal run carries the goal's trace
        trace_id: goalTraceId('run-1'),
        token_id: view.id,
        capability: 'tool: file_read',
        constraints: { max_invocations: 3 },
      },
    ]);
    const second = table.issue(parent, { capability: { kind: 'tool', name: 'file_read' }, constraints: {} });
    expect(second.id).not.toBe(view.id);
  });

  it('canonicalises path grants (data dir under a symlinked dir)', () => {
    const root = realpathSync(mkdtempSync(join(tmpdir(), 'aaos-table-')));
    try {
      mkdirSync(join(root, 'real'));
      symlinkSync(join(root, 'real'), join(root, 'alias'));
      const view = table.issue(parent, { capability: { kind: 'file_read', glob: `${root}/alias/*` }, constraints: {} });
      expect(view.capability).toEqual({ kind: 'file_read', glob: `${root}/real/*` });
      expect(table.check(parent.id, { kind: 'file_read', path: `${root}/real/x.txt` })).toBe(true);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('rejects malformed path grants', () => {
    expect(failure(() => grant(parent, { kind: 'file_read', glob: 'relative/*' })).code).toBe(ErrorCode.PATH_INVALID);
    expect(failure(() => grant(parent, { kind: 'file_read', glob: '/data/*/x' })).code).toBe(ErrorCode.PATH_INVALID);
    expect(table.list(parent.id)).toEqual([]);
  });
});

describe('authorize: matching and default deny', () => {
  it('denies by default and emits exactly one CapabilityDenied', () => {
    const err = failure(() => table.authorize(parent, readData, { tool: 'file_read' }));
    expect(err.code).toBe(ErrorCode.CAPABILITY_DENIED);
    expect(err.message).toContain("agent 'parent' (agent-parent)");
    expect(err.message).toContain('file_read: /data/project/file.txt');
    expect(err.message).toContain("tool 'file_read'");
    expect(events).toEqual([
      {
        type: 'CapabilityDenied',
        agent_id: parent.id,
        agent_name: 'parent',
        run_id: 'run-1',
        // an event of a goal run carries the goal's trace
        trace_id: goalTraceId('run-1'),
        capability: 'file_read: /data/project/file.txt',
        reason: expect.any(String),
        code: ErrorCode.CAPABILITY_DENIED,
        tool: 'file_read',
      },
    ]);
  });

  it('denies path traversal and glob-boundary escapes', () => {
    grant(parent, { kind: 'file_read', glob: '/data/*' });
    for (const path of [
      '/data/../etc/passwd',
      '/data/foo/../../etc/shadow',
      '/data/./../../etc/passwd',
      '/data-foo/x',
      '/data_foo/x',
      '/database',
    ]) {
      expect(failure(() => table.authorize(parent, { kind: 'file_read', path })).code).toBe(
        ErrorCode.CAPABILITY_DENIED,
      );
    }
    expect(denials()).toHaveLength(6);
    expect(table.authorize(parent, readData).capability).toEqual({ kind: 'file_read', glob: '/data/*' });
    expect(table.authorize(parent, { kind: 'file_read', path: '/data' }).owner).toBe(parent.id);
    expect(failure(() => table.authorize(parent, { kind: 'file_read', path: 'data/x' })).code).toBe(
      ErrorCode.CAPABILITY_DENIED,
    );
  });

  it('an unknown tool name passes only with tool: *', () => {
    grant(parent, { kind: 'tool', name: 'file_read' });
    expect(failure(() => table.authorize(parent, { kind: 'tool', name: 'no_such_tool' })).code).toBe(
      ErrorCode.CAPABILITY_DENIED,
    );
    grant(parent, { kind: 'tool', name: '*' });
    expect(table.authorize(parent, { kind: 'tool', name: 'no_such_tool' }).capability).toEqual({
      kind: 'tool',
      name: '*',
    });
  });

  it('check() neither charges nor audits', () => {
    const id = grant(parent, { kind: 'tool', name: 'echo' }, { max_invocations: 1 });
    const before = events.length;
    for (let i = 0; i < 5; i += 1) expect(table.check(parent.id, { kind: 'tool', name: 'echo' })).toBe(true);
    expect(table.check(parent.id, { kind: 'tool', name: 'other' })).toBe(false);
    expect(events.length).toBe(before);
    expect(table.list(parent.id).find((t) => t.id === id)?.invocation_count).toBe(0);
  });

  it('charge: false checks without using an invocation', () => {
    grant(parent, { kind: 'tool', name: 'echo' }, { max_invocations: 1 });
    table.authorize(parent, { kind: 'tool', name: 'echo' }, { charge: false });
    table.authorize(parent, { kind: 'tool', name: 'echo' });
    expect(failure(() => table.authorize(parent, { kind: 'tool', name: 'echo' })).code).toBe(
      ErrorCode.CAPABILITY_EXHAUSTED,
    );
  });
});

describe('authorize: handles', () => {
  it('refuses a forged handle', () => {
    grant(parent, { kind: 'tool', name: 'echo' });
    const err = failure(() =>
      table.authorize(parent, { kind: 'tool', name: 'echo' }, { handle: 'cap_AAAAAAAAAAAAAAAAAAAAAA' }),
    );
    expect(err.code).toBe(ErrorCode.CAPABILITY_UNKNOWN_HANDLE);
    expect(denials()).toHaveLength(1);
  });

  it("refuses another agent's handle", () => {
    const theirs = grant(other, { kind: 'tool', name: 'echo' });
    grant(parent, { kind: 'tool', name: 'echo' });
    const err = failure(() => table.authorize(parent, { kind: 'tool', name: 'echo' }, { handle: theirs }));
    expect(err.code).toBe(ErrorCode.CAPABILITY_WRONG_AGENT);
    expect(err.message).not.toContain(other.id);
    expect(denials()).toHaveLength(1);
    expect(table.list(other.id)[0]?.invocation_count).toBe(0);
  });

  it('checks and charges exactly the presented token', () => {
    const narrow = grant(parent, { kind: 'file_read', glob: '/data/a/*' }, { max_invocations: 1 });
    const wide = grant(parent, { kind: 'file_read', glob: '/data/*' });
    expect(
      failure(() => table.authorize(parent, { kind: 'file_read', path: '/data/b/x' }, { handle: narrow })).code,
    ).toBe(ErrorCode.CAPABILITY_DENIED);
    expect(table.authorize(parent, { kind: 'file_read', path: '/data/a/x' }, { handle: narrow }).id).toBe(narrow);
    expect(
      failure(() => table.authorize(parent, { kind: 'file_read', path: '/data/a/x' }, { handle: narrow })).code,
    ).toBe(ErrorCode.CAPABILITY_EXHAUSTED);
    // without a handle the wide token still permits it
    expect(table.authorize(parent, { kind: 'file_read', path: '/data/a/x' }).id).toBe(wide);
  });
});

describe('constraints', () => {
  it('max_invocations: exactly max calls pass, then EXHAUSTED; no max means no limit', () => {
    grant(parent, { kind: 'tool', name: 'echo' }, { max_invocations: 3 });
    for (let i = 0; i < 3; i += 1) table.authorize(parent, { kind: 'tool', name: 'echo' });
    const err = failure(() => table.authorize(parent, { kind: 'tool', name: 'echo' }));
    expect(err.code).toBe(ErrorCode.CAPABILITY_EXHAUSTED);
    expect(err.message).toContain('3');
    expect(denials()).toHaveLength(1);
    grant(parent, { kind: 'tool', name: 'free' });
    for (let i = 0; i < 1000; i += 1) table.authorize(parent, { kind: 'tool', name: 'free' });
  });

  it('uses a second permitting token once the first is exhausted', () => {
    grant(parent, { kind: 'tool', name: 'echo' }, { max_invocations: 1 });
    grant(parent, { kind: 'tool', name: 'echo' }, { max_invocations: 1 });
    table.authorize(parent, { kind: 'tool', name: 'echo' });
    table.authorize(parent, { kind: 'tool', name: 'echo' });
    expect(failure(() => table.authorize(parent, { kind: 'tool', name: 'echo' })).code).toBe(
      ErrorCode.CAPABILITY_EXHAUSTED,
    );
  });

  it('expires_at: EXPIRED at and after the instant', () => {
    grant(parent, { kind: 'tool', name: 'echo' }, { expires_at: now + 1000 });
    table.authorize(parent, { kind: 'tool', name: 'echo' });
    now += 1000;
    const err = failure(() => table.authorize(parent, { kind: 'tool', name: 'echo' }));
    expect(err.code).toBe(ErrorCode.CAPABILITY_EXPIRED);
    expect(table.check(parent.id, { kind: 'tool', name: 'echo' })).toBe(false);
    expect(table.handles(parent.id)).toEqual([]);
    expect(denials()).toHaveLength(1);
  });
});

describe('revocation', () => {
  it('takes effect on the next call; double revoke is false; one event', () => {
    const id = grant(parent, { kind: 'tool', name: 'echo' });
    table.authorize(parent, { kind: 'tool', name: 'echo' });
    now += 5;
    expect(table.revoke(id, 'operator request')).toBe(true);
    expect(table.revoke(id, 'again')).toBe(false);
    expect(table.revoke('cap_unknown', 'x')).toBe(false);
    const revokedEvents = events.filter((e) => e.type === 'CapabilityRevoked');
    expect(revokedEvents).toEqual([
      {
        type: 'CapabilityRevoked',
        agent_id: parent.id,
        agent_name: 'parent',
        run_id: 'run-1',
        // an event of a goal run carries the goal's trace
        trace_id: goalTraceId('run-1'),
        token_id: id,
        capability: 'tool: echo',
        reason: 'operator request',
      },
    ]);
    const err = failure(() => table.authorize(parent, { kind: 'tool', name: 'echo' }));
    expect(err.code).toBe(ErrorCode.CAPABILITY_REVOKED);
    expect(failure(() => table.authorize(parent, { kind: 'tool', name: 'echo' }, { handle: id })).code).toBe(
      ErrorCode.CAPABILITY_REVOKED,
    );
    expect(denials()).toHaveLength(2);
    const listed = table.list(parent.id);
    expect(listed).toHaveLength(1);
    expect(listed[0]?.revoked_at).toBe(now);
    // the view round-trips through JSON as revoked
    expect(TokenView.parse(JSON.parse(JSON.stringify(listed[0]))).revoked_at).toBe(now);
  });

  it('revokeAll revokes each live token once, and forget drops them', () => {
    const a = grant(parent, { kind: 'tool', name: 'a' });
    grant(parent, { kind: 'tool', name: 'b' });
    grant(parent, { kind: 'tool', name: 'c' });
    table.revoke(a, 'first');
    grant(other, { kind: 'tool', name: 'a' });
    expect(table.revokeAll(parent.id, 'agent stopped')).toBe(2);
    expect(table.revokeAll(parent.id, 'agent stopped')).toBe(0);
    expect(events.filter((e) => e.type === 'CapabilityRevoked')).toHaveLength(3);
    expect(table.handles(parent.id)).toEqual([]);
    expect(table.check(other.id, { kind: 'tool', name: 'a' })).toBe(true);
    table.forget(parent.id);
    expect(table.list(parent.id)).toEqual([]);
    expect(table.revoke(a, 'x')).toBe(false);
    expect(failure(() => table.authorize(parent, { kind: 'tool', name: 'b' }, { handle: a })).code).toBe(
      ErrorCode.CAPABILITY_UNKNOWN_HANDLE,
    );
  });

  it('forget revokes (and audits) tokens that were still live', () => {
    grant(parent, { kind: 'tool', name: 'a' });
    table.forget(parent.id);
    expect(events.filter((e) => e.type === 'CapabilityRevoked')).toHaveLength(1);
  });

  it('revoking a parent token revokes every token delegated from it, at once', () => {
    const p = grant(parent, { kind: 'tool', name: 'echo' });
    table.delegate(parent, child, [{ capability: { kind: 'tool', name: 'echo' }, constraints: {} }]);
    table.revoke(p, 'x');
    expect(table.check(child.id, { kind: 'tool', name: 'echo' })).toBe(false);
    expect(failure(() => table.authorize(child, { kind: 'tool', name: 'echo' })).code).toBe(
      ErrorCode.CAPABILITY_REVOKED,
    );
  });
});

describe('views', () => {
  it('list() returns detached copies; handles() only live ids', () => {
    const id = grant(parent, { kind: 'network', hosts: ['a.com'] }, { max_invocations: 2 });
    const [view] = table.list(parent.id);
    if (view === undefined || view.capability.kind !== 'network') throw new Error('missing view');
    view.capability.hosts.push('*');
    view.constraints.max_invocations = 1000;
    view.invocation_count = -5;
    expect(table.check(parent.id, { kind: 'network', host: 'evil.com' })).toBe(false);
    table.authorize(parent, { kind: 'network', host: 'a.com' });
    table.authorize(parent, { kind: 'network', host: 'A.COM' });
    expect(failure(() => table.authorize(parent, { kind: 'network', host: 'a.com' })).code).toBe(
      ErrorCode.CAPABILITY_EXHAUSTED,
    );
    expect(table.handles(parent.id)).toEqual([]);
    expect(table.list(parent.id)[0]).toMatchObject({ id, invocation_count: 2 });
  });
});

describe('delegate (narrowing)', () => {
  beforeEach(() => {
    grant(parent, { kind: 'file_read', glob: '/src/*' }, { max_invocations: 5 });
    grant(parent, { kind: 'tool', name: 'file_read' });
    grant(parent, { kind: 'network', hosts: ['api.example.com'] });
    grant(parent, { kind: 'spawn_child', agents: ['*'] });
  });

  it('issues narrower tokens that inherit the parent constraints', () => {
    const views = table.delegate(parent, child, [
      { capability: { kind: 'file_read', glob: '/src/crates/*' }, constraints: {} },
      { capability: { kind: 'tool', name: 'file_read' }, constraints: { max_invocations: 2 } },
      { capability: { kind: 'spawn_child', agents: ['helper'] }, constraints: {} },
    ]);
    expect(views).toHaveLength(3);
    expect(views[0]).toMatchObject({
      owner: child.id,
      capability: { kind: 'file_read', glob: '/src/crates/*' },
      constraints: { max_invocations: 5 },
      invocation_count: 0,
    });
    expect(views[0]?.parent_token_id).toBe(table.list(parent.id)[0]?.id);
    expect(views[1]?.constraints).toEqual({ max_invocations: 2 });
    expect(table.check(child.id, { kind: 'file_read', path: '/src/crates/a.rs' })).toBe(true);
    expect(table.check(child.id, { kind: 'file_read', path: '/src/other.rs' })).toBe(false);
    const granted = events.filter((e) => e.type === 'CapabilityGranted' && e.agent_id === child.id);
    expect(granted).toHaveLength(3);
    expect(granted[0]).toMatchObject({ parent_id: parent.id, constraints: { max_invocations: 5 } });
  });

  it('keeps the tighter of parent and child limits (max and expiry)', () => {
    const p = table.issue(parent, {
      capability: { kind: 'tool', name: 'echo' },
      constraints: { max_invocations: 5, expires_at: now + 10_000 },
    });
    const [tighter] = table.delegate(parent, child, [
      { capability: { kind: 'tool', name: 'echo' }, constraints: { max_invocations: 3, expires_at: now + 50_000 } },
    ]);
    expect(tighter?.constraints).toEqual({ max_invocations: 3, expires_at: now + 10_000 });
    const [looser] = table.delegate(parent, child, [
      { capability: { kind: 'tool', name: 'echo' }, constraints: { max_invocations: 50 } },
    ]);
    expect(looser?.constraints).toEqual({ max_invocations: 5, expires_at: now + 10_000 });
    expect(looser?.parent_token_id).toBe(p.id);
  });

  it.each<[string, Capability]>([
    ['a wider file glob', { kind: 'file_read', glob: '/*' }],
    ['a file glob beside the parent', { kind: 'file_read', glob: '/src-other/*' }],
    ['file_write the parent lacks', { kind: 'file_write', glob: '/etc/*' }],
    ['a tool the parent lacks', { kind: 'tool', name: 'file_write' }],
    ['tool: * from a single tool', { kind: 'tool', name: '*' }],
    ['a network host the parent lacks', { kind: 'network', hosts: ['api.example.com', 'evil.com'] }],
    ['network: * from a host list', { kind: 'network', hosts: ['*'] }],
    ['message_send the parent lacks', { kind: 'message_send', targets: ['x'] }],
  ])('refuses %s: NOT_DELEGABLE, nothing issued, one denial', (_label, capability) => {
    events.length = 0;
    const err = failure(() =>
      table.delegate(parent, child, [
        { capability: { kind: 'tool', name: 'file_read' }, constraints: {} },
        { capability, constraints: {} },
      ]),
    );
    expect(err.code).toBe(ErrorCode.CAPABILITY_NOT_DELEGABLE);
    expect(err.message).toContain("agent 'parent'");
    expect(err.message).toContain("child 'child'");
    expect(table.list(child.id)).toEqual([]);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'CapabilityDenied',
      agent_id: parent.id,
      code: ErrorCode.CAPABILITY_NOT_DELEGABLE,
    });
  });

  it('does not delegate from revoked, expired or exhausted parent tokens', () => {
    const t = table.issue(parent, { capability: { kind: 'tool', name: 'once' }, constraints: { max_invocations: 1 } });
    table.authorize(parent, { kind: 'tool', name: 'once' });
    expect(
      failure(() => table.delegate(parent, child, [{ capability: { kind: 'tool', name: 'once' }, constraints: {} }]))
        .code,
    ).toBe(ErrorCode.CAPABILITY_NOT_DELEGABLE);
    const r = grant(parent, { kind: 'tool', name: 'gone' });
    table.revoke(r, 'x');
    expect(
      failure(() => table.delegate(parent, child, [{ capability: { kind: 'tool', name: 'gone' }, constraints: {} }]))
        .code,
    ).toBe(ErrorCode.CAPABILITY_NOT_DELEGABLE);
    expect(t.id).toBeTruthy();
    expect(table.list(child.id)).toEqual([]);
  });

  it("a child's uses come out of the parent token's pool", () => {
    const p = table.issue(parent, { capability: { kind: 'tool', name: 'web' }, constraints: { max_invocations: 2 } });
    table.authorize(parent, { kind: 'tool', name: 'web' });
    table.delegate(parent, child, [{ capability: { kind: 'tool', name: 'web' }, constraints: {} }]);
    table.authorize(child, { kind: 'tool', name: 'web' });
    expect(failure(() => table.authorize(child, { kind: 'tool', name: 'web' })).code).toBe(
      ErrorCode.CAPABILITY_EXHAUSTED,
    );
    expect(failure(() => table.authorize(parent, { kind: 'tool', name: 'web' })).code).toBe(
      ErrorCode.CAPABILITY_EXHAUSTED,
    );
    expect(table.list(parent.id).find((v) => v.id === p.id)?.invocation_count).toBe(2);
  });
});

describe('revokeDelegatedFrom: a parent token held on another node', () => {
  it('revokes, at once, every token here narrowed from the remote token, and nothing else', () => {
    // tokens that arrived with a spawn from another node name a parent token this table does not hold
    const remoteParent = 'cap_remote_parent_token';
    const narrowed = table.issue(
      child,
      { capability: { kind: 'tool', name: 'echo' }, constraints: {} },
      remoteParent,
    ).id;
    const unrelated = grant(other, { kind: 'tool', name: 'echo' });
    expect(table.authorize(child, { kind: 'tool', name: 'echo' }).id).toBe(narrowed);
    expect(table.revoke(remoteParent, 'not held here')).toBe(false);
    expect(table.revokeDelegatedFrom(remoteParent, 'revoked on node a')).toBe(1);
    expect(failure(() => table.authorize(child, { kind: 'tool', name: 'echo' })).code).toBe(
      ErrorCode.CAPABILITY_REVOKED,
    );
    expect(table.authorize(other, { kind: 'tool', name: 'echo' }).id).toBe(unrelated);
    const revoked = events.filter((e) => e.type === 'CapabilityRevoked');
    expect(revoked.map((e) => (e as { token_id?: string }).token_id)).toEqual([narrowed]);
    // applied again (the record is replayed when a node joins): nothing more
    expect(table.revokeDelegatedFrom(remoteParent, 'again')).toBe(0);
  });
});

describe('sharesCountedPool: may a child run where this table is not?', () => {
  const echo: Capability = { kind: 'tool', name: 'echo' };

  it('no limit anywhere: the child shares no counted pool', () => {
    grant(parent, echo);
    expect(table.sharesCountedPool(parent.id, [{ capability: echo, constraints: {} }])).toBe(false);
  });

  it('a limit on the parent token it would be narrowed from, or on its own grant: it does', () => {
    grant(parent, echo, { max_invocations: 5 });
    expect(table.sharesCountedPool(parent.id, [{ capability: echo, constraints: {} }])).toBe(true);
    const free: Capability = { kind: 'tool', name: 'web_fetch' };
    grant(parent, free);
    expect(table.sharesCountedPool(parent.id, [{ capability: free, constraints: { max_invocations: 2 } }])).toBe(true);
    expect(table.sharesCountedPool(parent.id, [{ capability: free, constraints: {} }])).toBe(false);
  });

  it('a limit further up the delegation chain counts too (a grandchild of a limited root)', () => {
    grant(parent, echo, { max_invocations: 5 });
    table.delegate(parent, child, [{ capability: echo, constraints: {} }]);
    // the child's own token has no limit; the one it was narrowed from does
    expect(table.sharesCountedPool(child.id, [{ capability: echo, constraints: {} }])).toBe(true);
  });
});
