import { isAlias, isMap, isPair, isScalar, isSeq } from 'yaml';
import type { Document, LineCounter, Node } from 'yaml';

export type FieldPath = readonly (string | number)[];

export interface Position {
  line: number;
  column: number;
}

/** `capabilities[2].max_invocations`; the document itself is `(root)`. */
export function formatFieldPath(path: FieldPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out === '' ? '(root)' : out;
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return undefined;
}

function resolve(doc: Document, node: unknown): unknown {
  // follow aliases so a path through `*anchor` still finds its node
  return isAlias(node) ? node.resolve(doc) : node;
}

function startOf(node: unknown): number | undefined {
  const range = (node as Node | null | undefined)?.range;
  return range ? range[0] : undefined;
}

/**
 * Offset of the YAML node an issue path points at. With `atKey`, the key of the last
 * path segment (for unknown or duplicate keys). A missing node (a required field that
 * is absent) falls back to the nearest existing ancestor.
 */
export function offsetOfPath(doc: Document, path: FieldPath, atKey = false): number {
  let node: unknown = doc.contents;
  let best = startOf(node) ?? 0;
  for (let i = 0; i < path.length; i++) {
    const part = path[i];
    const last = i === path.length - 1;
    node = resolve(doc, node);
    if (isMap(node)) {
      const pair = node.items.find((item) => keyText(item.key) === String(part));
      if (!pair) return best;
      if (last && atKey) return startOf(pair.key) ?? best;
      // an empty value (`memory:`) is a null scalar placed after the key: point at the key
      node = pair.value ?? pair.key;
      const empty = pair.value === null || (isScalar(pair.value) && pair.value.value === null);
      best = (empty ? startOf(pair.key) : startOf(pair.value)) ?? best;
    } else if (isSeq(node) && typeof part === 'number') {
      const item = node.items[part];
      if (item === undefined) return best;
      node = item;
      best = startOf(item) ?? best;
    } else {
      return best;
    }
  }
  return best;
}

export function positionOf(lineCounter: LineCounter, offset: number): Position {
  const { line, col } = lineCounter.linePos(offset);
  return { line: Math.max(1, line), column: Math.max(1, col) };
}

/**
 * The field path of the deepest key or item containing `offset`, to name the field of a
 * YAML error. When the offset is on a key, that key is the field (`duplicate key`);
 * with `containerOnly` its parent is (a syntax error at a key means the key itself is
 * malformed, so its text is no field name).
 */
export function pathAtOffset(doc: Document, offset: number, containerOnly = false): (string | number)[] {
  const path: (string | number)[] = [];
  let node: unknown = doc.contents;
  for (;;) {
    node = resolve(doc, node);
    let next: unknown;
    if (isMap(node)) {
      const spans = node.items.map((pair) => {
        const keyRange = isPair(pair) ? (pair.key as Node | null)?.range : undefined;
        const valueRange = (pair.value as Node | null)?.range;
        return keyRange ? { start: keyRange[0], end: valueRange ? valueRange[2] : keyRange[2] } : undefined;
      });
      const index = containing(spans, offset, containerOnly);
      const pair = index === undefined ? undefined : node.items[index];
      if (pair !== undefined) {
        const key = keyText(pair.key);
        if (key === undefined) return path;
        const keyEnd = (pair.key as Node | null)?.range?.[1] ?? 0;
        if (offset < keyEnd) {
          if (!containerOnly) path.push(key);
          return path;
        }
        path.push(key);
        next = pair.value;
      }
    } else if (isSeq(node)) {
      const spans = node.items.map((item) => {
        const range = (item as Node | null)?.range;
        return range ? { start: range[0], end: range[2] } : undefined;
      });
      const index = containing(spans, offset, containerOnly);
      if (index !== undefined) {
        path.push(index);
        next = node.items[index];
      }
    }
    if (next === undefined || next === null) return path;
    node = next;
  }
}

/**
 * The span containing `offset` (end exclusive), or one ending exactly at it: YAML reports
 * an unterminated node just past its end, so for syntax errors (`preferEnd`) a node that
 * ends at the offset is the likelier culprit than the one that starts there.
 */
function containing(
  spans: ({ start: number; end: number } | undefined)[],
  offset: number,
  preferEnd: boolean,
): number | undefined {
  const inside = spans.findIndex((span) => span !== undefined && offset >= span.start && offset < span.end);
  const atEnd = spans.findIndex((span) => span !== undefined && span.end === offset);
  const order = preferEnd ? [atEnd, inside] : [inside, atEnd];
  const found = order.find((index) => index !== -1);
  return found;
}
