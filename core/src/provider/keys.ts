import { InvalidKeyError, UnsupportedScopeError } from '../errors.js';

/** S3's limit on key length, the smallest of the object stores Strata targets. */
const MAX_KEY_BYTES = 1024;

/** Why `key` is unsafe as an object key, or undefined when it is safe. */
function keyProblem(key: string): string | undefined {
  if (key.length === 0) return 'it is empty';
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) return `it is longer than ${MAX_KEY_BYTES} bytes`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused.
  if (/[\u0000-\u001f\u007f]/.test(key)) return 'it contains a control character (NUL, newline, ...)';
  if (key.includes('\\')) return 'it contains a backslash; use "/" to separate path segments';
  if (key.startsWith('/')) return 'it is absolute; keys are relative to the backend root';
  for (const segment of key.split('/')) {
    if (segment === '') return 'it has an empty path segment ("//" or a trailing "/")';
    if (segment === '.' || segment === '..')
      return `it has a "${segment}" segment, which could escape the backend root`;
  }
  return undefined;
}

/**
 * Throws `InvalidKeyError` unless `key` is a safe object key: non-empty, at most 1024 bytes, relative,
 * `/`-separated, with no empty, `.` or `..` segment, no backslash and no control character. Such a
 * key maps to a path inside the backend's root on every provider, so none can escape it.
 */
export function assertSafeKey(key: string): void {
  const problem = keyProblem(key);
  if (problem !== undefined) throw new InvalidKeyError(key, problem);
}

/**
 * A configured or per-call path (`BACKUP_*_PATH`, Weaviate's `config.Path`) as a key prefix for an
 * object store: leading, trailing and doubled `/` dropped, then `''` or `a/b/`. Throws
 * `UnsupportedScopeError` for `module` when what remains is not a safe key.
 */
export function keyPrefix(module: string, path: string): string {
  const prefix = path.split('/').filter(Boolean).join('/');
  if (prefix === '') return '';
  const problem = keyProblem(prefix);
  if (problem !== undefined) {
    throw new UnsupportedScopeError(
      module,
      `config.Path is not a usable key prefix: ${new InvalidKeyError(prefix, problem).message}`,
    );
  }
  return `${prefix}/`;
}
