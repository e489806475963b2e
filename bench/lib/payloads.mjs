// The message used by the raw port measurements: a JSON-RPC 2.0 `tools/call`
// request of about 1 KB, the size of a typical tool call crossing the
// agent⇄supervisor boundary. Sent as a JSON string (the form the runtime is
// expected to use on the supervisor path).

const FILLER = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor '.repeat(4);

/** A fresh envelope object; `id` varies so that every message is distinct. */
export function makeEnvelope(id, from = 'agent-a', to = 'supervisor') {
  return {
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: {
      name: 'fs_read',
      arguments: {
        path: '/workspace/project/src/components/widgets/data-table/column-config.ts',
        encoding: 'utf8',
        max_bytes: 65536,
        note: FILLER.slice(0, 200),
      },
      context: {
        trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
        span_id: '00f067aa0ba902b7',
        parent_span_id: '53995c3f42cd8ad8',
        session: 'sess-7f3a9c2e-1b4d-4e8a-9f6c-2d5e8b1a3c7f',
      },
      meta: {
        from,
        to,
        capability: 'cap-fs-read-0001-aaaa-bbbb-cccc-dddddddddddd',
        deadline_ms: 30000,
        attempt: 1,
        tags: ['bench', 'tools', 'fs', 'read', 'envelope', 'json-rpc'],
        description: FILLER.slice(0, 180),
      },
    },
  };
}

export const ENVELOPE_BYTES = Buffer.byteLength(JSON.stringify(makeEnvelope(123456)));
