// The aaos web console: plain DOM, no framework. Every value from the daemon is put in the
// page as text (never as HTML); every change is a POST with a JSON body.

type Json = Record<string, unknown>;
interface AuditEvent extends Json {
  id: string;
  ts: string;
  type: string;
  agent_id: string;
  agent_name: string;
  run_id?: string;
}
interface Agent {
  id: string;
  name: string;
  model: string;
  state: string;
  parent_id: string | null;
  heap_used_mb: number | null;
  capabilities: Array<{ token_id: string; capability: string; invocations: number }>;
}
interface Run {
  run_id: string;
  goal: string;
  state: string;
  created_at: string;
  usage?: { input_tokens: number; output_tokens: number };
}
interface Pending {
  id: string;
  agent_id: string;
  agent_name: string;
  tool: string;
  input: unknown;
  requested_at: string;
}

const byId = (id: string): HTMLElement => {
  const found = document.getElementById(id);
  if (!found) throw new Error(`#${id} missing`);
  return found;
};

function el(tag: string, attrs: Record<string, string> = {}, ...children: Array<Node | string>): HTMLElement {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c);
  return node;
}

function badge(state: string): HTMLElement {
  return el('span', { class: `badge state state-${state}` }, state);
}

async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { credentials: 'same-origin' });
  const body = (await res.json()) as T & { error?: { code: string; message: string } };
  if (!res.ok) throw new Error(body.error ? `${body.error.code}: ${body.error.message}` : `${res.status}`);
  return body;
}

async function post<T>(path: string, body: unknown): Promise<T> {
  const res = await fetch(path, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const out = (await res.json()) as T & { error?: { code: string; message: string } };
  if (!res.ok) throw new Error(out.error ? `${out.error.code}: ${out.error.message}` : `${res.status}`);
  return out;
}

function report(err: unknown): void {
  byId('submit-result').textContent = err instanceof Error ? err.message : String(err);
}

// ── state ──────────────────────────────────────────────────────────────────
let selectedRun: string | undefined;
let selectedAgent: string | undefined;
let agents: Agent[] = [];
const timelineIds = new Set<string>();
let timelineEvents: AuditEvent[] = [];

function debounce(fn: () => void, ms: number): () => void {
  let timer: number | undefined;
  return () => {
    if (timer !== undefined) return;
    timer = window.setTimeout(() => {
      timer = undefined;
      fn();
    }, ms);
  };
}

// ── agents ─────────────────────────────────────────────────────────────────
async function loadAgents(): Promise<void> {
  agents = (await getJson<{ agents: Agent[] }>('/api/agents')).agents;
  const children = new Map<string | null, Agent[]>();
  const ids = new Set(agents.map((a) => a.id));
  for (const a of agents) {
    const parent = a.parent_id !== null && ids.has(a.parent_id) ? a.parent_id : null;
    children.set(parent, [...(children.get(parent) ?? []), a]);
  }
  const render = (parent: string | null): HTMLElement => {
    const ul = el('ul');
    for (const a of children.get(parent) ?? []) {
      const heap = a.heap_used_mb === null ? '' : ` · ${a.heap_used_mb} MB heap`;
      const line = el(
        'div',
        {
          class: `agent${a.id === selectedAgent ? ' selected' : ''}`,
          'data-agent-id': a.id,
          'data-agent-name': a.name,
        },
        el('span', { class: 'name' }, a.name),
        ' ',
        badge(a.state),
        el('span', { class: 'muted' }, ` ${a.model} · ${a.capabilities.length} capabilities${heap}`),
      );
      line.addEventListener('click', () => {
        selectedAgent = a.id;
        void loadAgents().catch(report);
      });
      const li = el('li', {}, line);
      if (children.has(a.id)) li.append(render(a.id));
      ul.append(li);
    }
    return ul;
  };
  const tree = byId('agents');
  tree.replaceChildren(...Array.from(render(null).childNodes));
  renderCapabilities();
}

function renderCapabilities(): void {
  const box = byId('capabilities');
  const agent = agents.find((a) => a.id === selectedAgent);
  if (!agent) {
    box.replaceChildren(el('p', { class: 'muted' }, 'Select an agent to see its capabilities.'));
    return;
  }
  const list = el('ul', { class: 'caps list' });
  for (const cap of agent.capabilities) {
    const revoke = el('button', { class: 'danger', 'data-action': 'revoke', 'data-token-id': cap.token_id }, 'Revoke');
    revoke.addEventListener('click', () => {
      void post('/api/capability.revoke', { agent_id: agent.id, token_id: cap.token_id })
        .then(() => loadAgents())
        .catch(report);
    });
    list.append(
      el(
        'li',
        { 'data-capability': cap.capability },
        revoke,
        ` ${cap.capability} `,
        el('span', { class: 'muted' }, `(used ${cap.invocations}×)`),
      ),
    );
  }
  box.replaceChildren(el('h3', {}, `Capabilities of ${agent.name}`), list);
}

// ── approvals ──────────────────────────────────────────────────────────────
async function loadApprovals(): Promise<void> {
  const { pending } = await getJson<{ pending: Pending[] }>('/api/approvals');
  byId('approvals-count').textContent = String(pending.length);
  const list = byId('approvals');
  list.replaceChildren(
    ...pending.map((p) => {
      const answer = (decision: 'approve' | 'deny', scope?: { minutes: number }): void => {
        void post('/api/approval.respond', { id: p.id, decision, ...(scope ? { scope } : {}) })
          .then(() => loadApprovals())
          .catch(report);
      };
      const approve = el('button', { 'data-action': 'approve' }, 'Approve');
      approve.addEventListener('click', () => answer('approve'));
      const deny = el('button', { class: 'danger', 'data-action': 'deny' }, 'Deny');
      deny.addEventListener('click', () => answer('deny'));
      const minutes = el('input', {
        type: 'number',
        min: '1',
        max: '10080',
        value: '10',
        'aria-label': 'minutes',
      }) as HTMLInputElement;
      const forMinutes = el('button', { 'data-action': 'approve-minutes' }, 'Approve for N minutes');
      forMinutes.addEventListener('click', () => answer('approve', { minutes: Number(minutes.value) }));
      return el(
        'li',
        { class: 'approval', 'data-approval-id': p.id },
        el('strong', {}, p.agent_name),
        ` wants ${p.tool} `,
        approve,
        deny,
        minutes,
        forMinutes,
        el('code', {}, JSON.stringify(p.input)),
      );
    }),
  );
}

// ── runs and the timeline ──────────────────────────────────────────────────
async function loadRuns(): Promise<void> {
  const { runs } = await getJson<{ runs: Run[] }>('/api/runs');
  byId('runs').replaceChildren(
    ...runs.map((r) => {
      const li = el(
        'li',
        { class: `run${r.run_id === selectedRun ? ' selected' : ''}`, 'data-run-id': r.run_id },
        badge(r.state),
        ` ${r.goal.slice(0, 90)} `,
        el('span', { class: 'muted' }, r.run_id.slice(0, 8)),
      );
      li.addEventListener('click', () => void selectRun(r.run_id).catch(report));
      return li;
    }),
  );
}

function describe(e: AuditEvent): { kind: string; text: string } | undefined {
  const s = (k: string): string => String(e[k] ?? '');
  const who = e.agent_name;
  switch (e.type) {
    case 'RunSubmitted':
      return { kind: 'run', text: `goal submitted: ${s('goal_preview')}` };
    case 'RunCompleted':
      return { kind: 'run', text: `run ${s('status')} after ${s('elapsed_ms')} ms: ${s('result_preview')}` };
    case 'AgentExecutionStarted':
      return { kind: 'agent', text: `▶ ${who} starts: ${s('message_preview')}` };
    case 'AgentExecutionCompleted':
      return {
        kind: 'agent',
        text: `■ ${who} ${s('stop_reason')} (${s('input_tokens')} in / ${s('output_tokens')} out tokens): ${s('response_preview')}`,
      };
    case 'UsageReported':
      return {
        kind: 'model',
        text: `model ${s('model')} [${s('provider')}] for ${who}: ${s('input_tokens')} in / ${s('output_tokens')} out tokens, ${Math.round(Number(e['duration_ms'] ?? 0))} ms`,
      };
    case 'ToolInvoked':
      return { kind: 'tool', text: `→ ${who} calls ${s('tool')} ${s('args_preview')}` };
    case 'ToolResult':
      return {
        kind: e['success'] ? 'tool' : 'tool-error',
        text: `← ${s('tool')} ${e['success'] ? 'ok' : `failed ${s('error_code')}`}: ${s('result_preview')}`,
      };
    case 'CapabilityDenied':
      return {
        kind: 'denied',
        text: `✖ DENIED ${who} asked for ${s('capability')}${e['tool'] ? ` (tool ${s('tool')})` : ''}: ${s('reason')}`,
      };
    case 'AgentSpawned':
      return e['parent_id'] ? { kind: 'spawn', text: `+ child ${who} spawned (${s('model')})` } : undefined;
    case 'AgentStopped':
      return { kind: 'spawn', text: `− ${who} stopped: ${s('reason')}` };
    case 'MessageSent':
      return { kind: 'message', text: `✉ ${who} → ${s('to')}: ${s('method')}` };
    case 'MessageFailed':
      return { kind: 'message', text: `✉ message to ${s('to')} failed: ${s('reason')}` };
    case 'HumanApprovalRequested':
      return { kind: 'approval', text: `? ${who} waits for approval of ${s('tool')}: ${s('input_preview')}` };
    case 'HumanApprovalGranted':
      return { kind: 'approval', text: `✓ approved ${s('tool')} (${s('scope')})` };
    case 'HumanApprovalDenied':
      return { kind: 'denied', text: `✖ approval denied for ${s('tool')}: ${s('reason')}` };
    case 'BudgetExceeded':
      return { kind: 'denied', text: `✖ budget exceeded: ${s('used_tokens')} of ${s('max_tokens')} tokens` };
    default:
      return undefined;
  }
}

function renderSummary(state?: string): void {
  let input = 0;
  let output = 0;
  let denials = 0;
  let children = 0;
  for (const e of timelineEvents) {
    if (e.type === 'UsageReported') {
      input += Number(e['input_tokens'] ?? 0);
      output += Number(e['output_tokens'] ?? 0);
    }
    if (e.type === 'CapabilityDenied') denials++;
    if (e.type === 'AgentSpawned' && e['parent_id']) children++;
  }
  const summary = byId('timeline-summary');
  if (state !== undefined) summary.dataset['state'] = state;
  summary.textContent = `${summary.dataset['state'] ?? ''} · tokens ${input} in / ${output} out · ${children} children · ${denials} denials`;
}

function appendEvent(e: AuditEvent): void {
  if (timelineIds.has(e.id)) return;
  timelineIds.add(e.id);
  timelineEvents.push(e);
  const d = describe(e);
  if (!d) return;
  byId('timeline').append(
    el('li', { class: `kind-${d.kind}`, 'data-type': e.type }, `${e.ts.slice(11, 23)} ${d.text}`),
  );
}

async function selectRun(runId: string): Promise<void> {
  selectedRun = runId;
  timelineIds.clear();
  timelineEvents = [];
  byId('timeline').replaceChildren();
  byId('timeline-run').textContent = runId;
  const { run, events } = await getJson<{ run: Run; events: AuditEvent[] }>(`/api/runs/${encodeURIComponent(runId)}`);
  if (selectedRun !== runId) return;
  for (const e of events) appendEvent(e);
  renderSummary(run.state);
  await loadRuns();
}

// ── live updates ───────────────────────────────────────────────────────────
const refreshAgents = debounce(() => void loadAgents().catch(report), 250);
const refreshApprovals = debounce(() => void loadApprovals().catch(report), 100);
const refreshRuns = debounce(() => void loadRuns().catch(report), 100);
const AGENT_EVENTS = new Set([
  'AgentSpawned',
  'AgentExecutionStarted',
  'AgentStopped',
  'AgentFailed',
  'AgentStateChanged',
  'AgentParked',
  'AgentReactivated',
  'CapabilityGranted',
  'CapabilityRevoked',
]);

function connect(): void {
  const live = byId('live');
  const source = new EventSource('/api/events');
  source.onopen = () => {
    live.textContent = 'live';
    live.className = 'badge live';
  };
  source.onerror = () => {
    live.textContent = 'reconnecting';
    live.className = 'badge state-failed';
  };
  source.addEventListener('lag', () => {
    // we fell behind: reload everything after the reconnect
    void refreshAll();
  });
  source.onmessage = (msg: MessageEvent<string>) => {
    const e = JSON.parse(msg.data) as AuditEvent;
    if (selectedRun !== undefined && e.run_id === selectedRun) {
      appendEvent(e);
      renderSummary(e.type === 'RunCompleted' ? String(e['status']) : undefined);
    }
    if (AGENT_EVENTS.has(e.type)) refreshAgents();
    if (e.type.startsWith('HumanApproval')) refreshApprovals();
    if (e.type === 'RunSubmitted' || e.type === 'RunCompleted' || e.type === 'AgentExecutionStarted') refreshRuns();
  };
}

async function refreshAll(): Promise<void> {
  const health = await getJson<{ status: string; version: string; agents: number }>('/api/health');
  byId('health').textContent = `${health.status} · v${health.version} · ${health.agents} agents`;
  await Promise.all([loadAgents(), loadApprovals(), loadRuns()]);
}

byId('submit-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const goal = (byId('goal') as HTMLTextAreaElement).value.trim();
  if (!goal) return;
  void post<{ run_id: string }>('/api/submit', { goal })
    .then(async ({ run_id }) => {
      byId('submit-result').textContent = `submitted run ${run_id}`;
      (byId('goal') as HTMLTextAreaElement).value = '';
      await selectRun(run_id);
    })
    .catch(report);
});

connect();
void refreshAll().catch(report);
