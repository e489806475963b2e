/** One problem found in a manifest, located in its source. */
export interface ManifestIssue {
  /** the file as the caller named it, or `<inline>` */
  file: string;
  /** 1-based */
  line: number;
  /** 1-based */
  column: number;
  /** e.g. `capabilities[2]`, `memory.context_window`, `(root)` */
  field: string;
  message: string;
}

/** `manifests/x.yaml:7:5: capabilities[2]: unknown capability kind ...` */
export function formatIssue(issue: ManifestIssue): string {
  return `${issue.file}:${issue.line}:${issue.column}: ${issue.field}: ${issue.message}`;
}

export function isManifestIssue(value: unknown): value is ManifestIssue {
  if (value === null || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v['file'] === 'string' &&
    typeof v['line'] === 'number' &&
    typeof v['column'] === 'number' &&
    typeof v['field'] === 'string' &&
    typeof v['message'] === 'string'
  );
}
