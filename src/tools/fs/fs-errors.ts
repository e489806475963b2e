import { AaosError, ErrorCode, isAaosError } from '../../errors/index.js';

/** Maps a Node fs error to an AaosError that names the path; AaosErrors pass through. */
export function fsError(err: unknown, path: string, action: string): AaosError {
  if (isAaosError(err)) return err;
  const errno = (err as { code?: unknown }).code;
  const detail = { path, action, errno: typeof errno === 'string' ? errno : undefined };
  switch (errno) {
    case 'ENOENT':
      return new AaosError(ErrorCode.PATH_NOT_FOUND, `cannot ${action} '${path}': no such file or directory`, detail, {
        cause: err,
      });
    case 'ENOTDIR':
      return new AaosError(
        ErrorCode.PATH_INVALID,
        `cannot ${action} '${path}': a component is not a directory`,
        detail,
        { cause: err },
      );
    case 'EISDIR':
      return new AaosError(ErrorCode.PATH_INVALID, `cannot ${action} '${path}': it is a directory`, detail, {
        cause: err,
      });
    case 'ELOOP':
      return new AaosError(ErrorCode.PATH_SYMLINK, `refusing to ${action} '${path}': it is a symbolic link`, detail, {
        cause: err,
      });
    case 'EACCES':
    case 'EPERM':
      return new AaosError(ErrorCode.TOOL_FAILED, `cannot ${action} '${path}': permission denied`, detail, {
        cause: err,
      });
    default:
      return new AaosError(
        ErrorCode.TOOL_FAILED,
        `cannot ${action} '${path}': ${err instanceof Error ? err.message : String(err)}`,
        detail,
        { cause: err },
      );
  }
}
