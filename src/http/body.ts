import type { IncomingMessage } from 'node:http';
import { AaosError, ErrorCode } from '../errors/index.js';

const MAX_BODY = 64 * 1024;

/**
 * The JSON body of a state-changing request. Only POST with `application/json`: a plain HTML
 * form from another site cannot send that without a CORS preflight, and GET never changes state.
 */
export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  if (req.method !== 'POST')
    throw new AaosError(
      ErrorCode.HTTP_BAD_REQUEST,
      `${req.url ?? ''} changes state: use POST, not ${req.method ?? '?'}`,
    );
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json')
    throw new AaosError(
      ErrorCode.HTTP_BAD_REQUEST,
      `${req.url ?? ''} takes Content-Type: application/json, not ${JSON.stringify(type)}`,
    );
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new AaosError(ErrorCode.HTTP_BAD_REQUEST, `request body over ${MAX_BODY} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return text.trim() === '' ? {} : (JSON.parse(text) as unknown);
  } catch (err) {
    throw new AaosError(ErrorCode.HTTP_BAD_REQUEST, `request body is not JSON: ${(err as Error).message}`);
  }
}
