import { bool, int, natsUrl, oneOf, optionalInt, path, pathList, text, url, type Setting } from './setting-kinds.js';

/**
 * Every setting of agentd, once: its variable name, parser, default and meaning.
 * The environment and `agentd.yaml` both go through this table, and
 * `docs/configuration.md` documents it (a test compares the two).
 *
 * To add a setting, add one line here and one row to docs/configuration.md, then read it
 * with `config.get('AAOS_…')` (or `readSetting(env, 'AAOS_…')` where only an env record is at hand).
 */
const INHERITS = '`AAOS_MAX_CONCURRENT_INFERENCE`';

export const SETTINGS = {
  // where things are
  AAOS_DATA_DIR: path(
    'state: LMDB store, `workspace/<run_id>/`, `inbox/`, default socket (if `--data-dir` is not given)',
    '`$XDG_DATA_HOME/aaos`, else `~/.local/share/aaos`',
  ),
  XDG_DATA_HOME: path('base of the default data dir', '`~/.local/share`'),
  AAOS_SOCKET: path('the socket, if `--socket` is not given (daemon and client)', '`<data dir>/run/agentd.sock`'),
  AAOS_AUDIT_FILE: path('an append-only NDJSON copy of every audit event (for log shippers)'),
  PATH: text('the command search path; MCP stdio servers get it as their only inherited variable', {
    defaultText: 'the login PATH',
  }),
  AAOS_MCP_SERVERS: path('a YAML or JSON file declaring the MCP servers whose tools agents may use (`docs/mcp.md`)'),
  NO_COLOR: text(
    'set to anything: no colour in the live view, also on a terminal (no-color.org); `--no-color` does the same',
  ),
  AAOS_SKILLS_DIR: pathList('`:`-separated skill folders loaded after the bundled `skills/` (later wins)'),
  AAOS_PROMPT_ROOTS: pathList(
    '`:`-separated read-only folders, besides the bundled `manifests/`, whose files a manifest written by an agent may name (`system_prompt: {file}`, `scripted:`) without holding `file_read` for them',
  ),

  // daemon and goals
  AAOS_SHUTDOWN_GRACE_MS: int(10_000, 0, 'how long running tool calls may take to finish on shutdown'),
  AAOS_MAX_CONNECTIONS: int(
    512,
    1,
    'socket connections served at once; one more is refused with `AAOS_ERR_TOO_MANY_CONNECTIONS`',
  ),
  AAOS_STORE_PROBE_MS: int(
    5000,
    1,
    'while store writes fail (full disk), how often a small write checks whether they work again',
  ),
  AAOS_STORE_MIN_FREE_MB: int(
    64,
    0,
    "store writes are refused (the daemon turns `degraded`) while the store's filesystem has less free space than this; `0` = no reserve (LMDB then meets the full disk itself, which its native code does not survive reliably)",
  ),
  AAOS_CONNECTION_IDLE_MS: int(
    300_000,
    0,
    'a socket connection with nothing in flight is closed after this long without a request (a partial or blank line is none); `0` = never',
  ),
  AAOS_MAX_CONCURRENT_GOALS: int(2, 1, 'goals the bootstrap agent runs at once; the rest queue'),
  AAOS_RESUME_RUNS: bool(true, 'resume goals a previous process left unfinished; `0` marks them `interrupted`'),
  AAOS_APPROVAL_TIMEOUT_MS: int(3_600_000, 1, 'an unanswered approval is denied after this'),

  // cluster (docs/cluster.md)
  AAOS_CLUSTER_URL: natsUrl(
    'join the cluster on this NATS JetStream server (`nats://HOST:PORT`), as `agentd run --cluster` does; unset: single node',
  ),
  AAOS_NODE_ID: text("this node's id in the cluster", { defaultText: '`<hostname>-<random>`' }),
  AAOS_CLUSTER_ACK_WAIT_MS: int(
    30_000,
    1000,
    'a goal whose node sent no progress for this long is redelivered to another node',
  ),
  AAOS_CLUSTER_HEARTBEAT_MS: int(
    2000,
    100,
    'how often a node announces itself; it counts as gone after 3 missed beats',
  ),
  AAOS_CLUSTER_KEY: text(
    'the secret every node of the cluster shares: spawns and envelopes between nodes are signed with it (HMAC-SHA256); unset: no agent is placed on, or sends to, another node',
    { secret: true },
  ),
  AAOS_CLUSTER_PLACEMENT: oneOf(
    ['least-loaded', 'local'] as const,
    'least-loaded',
    "where children spawned by a cluster node run: on the node with the fewest live agents, or always on their parent's node (a manifest may pin with `metadata.placement`)",
  ),

  // audit log
  AAOS_AUDIT_LOG_CAP: int(50_000, 1, 'audit events kept in memory'),
  AAOS_AUDIT_MAX_EVENTS: int(
    200_000,
    1,
    'events kept in the durable audit log (what `logs` and stream replays show, also after a restart)',
  ),
  AAOS_AUDIT_MAX_AGE_DAYS: int(30, 1, 'age after which durable audit events are dropped'),

  // agents and workers
  AAOS_MAX_AGENTS: int(100, 1, 'live agents at once'),
  AAOS_MAX_SPAWN_DEPTH: int(5, 0, 'how deep agents may spawn children'),
  AAOS_SPAWN_RETRIES: int(
    1,
    0,
    'times `spawn_agent` runs a child again (new id, same manifest and message) after it ended in error; each retry is a `ChildRetried` event',
  ),
  AAOS_TOOL_REPEAT_THRESHOLD: int(
    3,
    0,
    'the tool repeat guard: a run that made the same tool call (same input, not denied) this many times is stopped (`tool_repeat`); `0` = off',
  ),
  AAOS_SPAWN_AGENTS_BATCH_CAP: int(16, 1, 'children one `spawn_agents` call may start'),
  AAOS_PARK_IDLE_MS: int(600_000, 0, 'park an idle persistent agent (end its worker) after this; `0` = never'),
  AAOS_WARM_WORKERS: int(
    0,
    0,
    'pre-started workers kept ready for spawns; a drained pool refills once at most half of the agents that took its workers still run, or after 5 s without spawns',
  ),
  AAOS_WORKER_NICE: int(10, 0, 'scheduling niceness of agent threads (Linux)', 19),
  AAOS_MAX_OUTPUT_TOKENS: int(4096, 1, 'output tokens asked of the model per turn'),
  AAOS_WORKER_LIVENESS_MS: int(
    60_000,
    0,
    'watchdog: a worker with work that leaves a liveness ping unanswered this long is terminated (`AAOS_ERR_AGENT_UNRESPONSIVE`); `0` = no pings',
  ),
  AAOS_RUN_TIMEOUT_MS: int(
    21_600_000,
    0,
    'a run still going after this long is cancelled (`AAOS_ERR_RUN_TIMEOUT`); `0` = no limit',
  ),
  AAOS_RESTART_MAX: int(
    5,
    1,
    'a persistent agent whose worker died this many times within `AAOS_RESTART_WINDOW_MS` is parked as failed',
  ),
  AAOS_RESTART_WINDOW_MS: int(60_000, 1, 'the window of `AAOS_RESTART_MAX`'),
  AAOS_RESTART_BACKOFF_MS: int(
    1000,
    0,
    'wait before a persistent agent whose worker died restarts (on its next message); doubles per failure in the window, at most 30 s',
  ),

  // work bounds
  AAOS_MESSAGE_MAX_BYTES: int(
    1024 * 1024,
    1,
    'largest message between agents, UTF-8 bytes of the envelope (`AAOS_ERR_MESSAGE_TOO_LARGE`)',
  ),
  AAOS_MAILBOX_MAX: int(
    1000,
    1,
    'messages one agent may hold accepted and unfinished, queued or running (`AAOS_ERR_MAILBOX_FULL`)',
  ),
  AAOS_SEARCH_TIMEOUT_MS: int(
    30_000,
    1,
    "a `file_search` call's wall-time limit; its pool thread is terminated (`AAOS_ERR_TOOL_TIMEOUT`)",
  ),
  AAOS_SEARCH_THREADS: int(2, 1, 'threads `file_search` runs on (one search each, one at a time per agent)'),

  // models
  AAOS_MODEL_OVERRIDE: text("every agent uses this model instead of its manifest's (e.g. `scripted:/abs/file.yaml`)"),
  AAOS_MODEL_TIMEOUT_MS: int(600_000, 1, "a provider call's total limit (`AAOS_ERR_MODEL_TIMEOUT`, retried)"),
  AAOS_MODEL_IDLE_TIMEOUT_MS: int(
    120_000,
    1,
    "the longest silence in a provider answer's body once headers arrived (`AAOS_ERR_MODEL_TIMEOUT`, retried)",
  ),
  AAOS_MAX_CONCURRENT_INFERENCE: int(3, 1, 'model calls in flight at once, per provider'),
  AAOS_MIN_INFERENCE_DELAY_MS: int(0, 0, 'minimum gap between two model call starts, per provider'),
  AAOS_MAX_CONCURRENT_INFERENCE_ANTHROPIC: optionalInt(1, 'model calls in flight for Anthropic', INHERITS),
  AAOS_MAX_CONCURRENT_INFERENCE_OPENAI: optionalInt(1, 'model calls in flight for OpenAI', INHERITS),
  AAOS_MAX_CONCURRENT_INFERENCE_DEEPSEEK: optionalInt(1, 'model calls in flight for DeepSeek', INHERITS),
  AAOS_MAX_CONCURRENT_INFERENCE_OLLAMA: optionalInt(1, 'model calls in flight for Ollama', INHERITS),
  AAOS_MAX_CONCURRENT_INFERENCE_SCRIPTED: int(256, 1, 'model calls in flight for the offline scripted model'),
  ANTHROPIC_API_KEY: text('key for `claude-*` models', { secret: true }),
  ANTHROPIC_BASE_URL: url('Anthropic endpoint', 'https://api.anthropic.com'),
  OPENAI_API_KEY: text('key for `gpt-*`, `o1*`… and `openai:` models', { secret: true }),
  OPENAI_BASE_URL: url('OpenAI endpoint', 'https://api.openai.com/v1'),
  DEEPSEEK_API_KEY: text('key for `deepseek-*` models', { secret: true }),
  DEEPSEEK_BASE_URL: url('DeepSeek endpoint', 'https://api.deepseek.com'),
  OLLAMA_BASE_URL: url(
    'a local OpenAI-compatible server for `ollama:` models; setting it marks ollama available',
    undefined,
    '`http://127.0.0.1:11434/v1`',
  ),
  OLLAMA_API_KEY: text('key for that server, if it wants one', { secret: true }),

  // observability (docs/observability.md)
  AAOS_HTTP: text('`HOST:PORT` of the loopback HTTP listener (web console, `/metrics`), if `--http` is not given'),
  OTEL_SDK_DISABLED: bool(false, 'turns every OpenTelemetry part off, whatever else is set'),
  OTEL_EXPORTER_OTLP_ENDPOINT: url(
    'OTLP/HTTP collector base URL; traces go to `<url>/v1/traces`. Unset (and no traces endpoint): no spans are made',
  ),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: url(
    'OTLP/HTTP traces URL, used as it is (wins over `OTEL_EXPORTER_OTLP_ENDPOINT`)',
  ),
  OTEL_SERVICE_NAME: text('`service.name` of the exported spans', { defaultText: '`aaos`' }),
  OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: bool(
    false,
    'put message and tool content (the audit previews) on spans; off: only metadata',
  ),
  // computed orchestration (docs/orchestration.md)
  AAOS_ORCHESTRATION: oneOf(
    ['direct', 'plan', 'auto', 'persistent'],
    'direct',
    'how a goal submitted without a mode runs: `direct` (the bootstrap agent; `persistent` is the same), `plan` (planner + DAG executor) or `auto` (one model call decides)',
  ),
  AAOS_PLANNER_MODEL: text('model of the planner', { defaultText: 'the offline `roles/scripted/planner.yaml`' }),
  AAOS_CLASSIFIER_MODEL: text('model of the `auto` classifier', {
    defaultText: '`AAOS_PLANNER_MODEL`, else the offline `roles/scripted/classifier.yaml`',
  }),
  AAOS_ROLES_DIR: pathList('`:`-separated role folders loaded after the bundled `roles/` (later wins on a name)'),
  AAOS_MAX_REPLANS: int(3, 0, 'replans of one plan run after a failure'),
  AAOS_DEFAULT_TASK_TTL_WALL_CLOCK_S: optionalInt(
    1,
    'wall-clock limit (s) of a subtask attempt whose plan gives none',
    'none',
  ),
  AAOS_DEFAULT_TASK_TTL_HOPS: optionalInt(0, 'hop budget of a subtask whose plan gives none', 'none'),

  // memory
  AAOS_EMBEDDINGS_BASE_URL: url(
    'an OpenAI-compatible embeddings endpoint (with `AAOS_EMBEDDINGS_MODEL`); unset: the offline hashed n-gram embedder',
  ),
  AAOS_EMBEDDINGS_MODEL: text('the embeddings model at that endpoint'),
  AAOS_EMBEDDINGS_API_KEY: text('key for the embeddings endpoint', { secret: true }),
  AAOS_EMBEDDINGS_DIMS: optionalInt(1, "vector size asked of the endpoint (unset: the model's own)"),
  AAOS_MEMORY_MAX_RECORDS_PER_AGENT: int(
    1_000_000,
    1,
    "the most episodic memories one agent may hold, whatever its manifest says (`episodic_max_records` above it: a store at this count fails with `AAOS_ERR_MEMORY_LIMIT`); bounds the supervisor's memory per agent (about 0.8 KB resident per memory with the default embedder)",
  ),
} satisfies Record<string, Setting<unknown>>;

export type SettingName = keyof typeof SETTINGS;

/** The parsed type of one setting. */
export type SettingValue<K extends SettingName> = (typeof SETTINGS)[K] extends Setting<infer T> ? T : never;

export function isSettingName(name: string): name is SettingName {
  return Object.hasOwn(SETTINGS, name);
}
