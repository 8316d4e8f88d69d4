/**
 * Every error @strata/core raises on purpose, in one place (as Fastify's `lib/errors.js`).
 *
 * Each error has a stable code (`STRATA_<AREA>_<WHAT>`, never renamed or reused), a message template,
 * and the HTTP status it surfaces with. Message text lives nowhere else. docs/errors.md lists every
 * code; a test keeps the two in step. Programmer mistakes (calling an API wrongly) stay plain
 * TypeErrors and are not listed here.
 *
 * An error that crosses a boundary (a chunk worker's thread, another node) travels as its code:
 * {@link serializeError} on one side, {@link reviveError} on the other, which rebuilds the class
 * {@link defineError} registered for the code.
 *
 * This file imports nothing, so the provider surface (index.ts) can re-export from it without
 * depending on the rest of core.
 */

/** The base class of every error Strata raises on purpose. Recognise one by `code`, not `instanceof`. */
export class StrataError extends Error {
  /** Stable identifier, e.g. `STRATA_BACKEND_NOT_FOUND`. */
  readonly code: string;
  /** The HTTP status this error answers with when it reaches the REST API. */
  readonly statusCode: number;

  constructor(code: string, statusCode: number, message: string) {
    super(message);
    this.name = 'StrataError';
    this.code = code;
    this.statusCode = statusCode;
  }

  /** Attaches the lower-level error that caused this one and returns `this`. */
  withCause(cause: unknown): this {
    Object.defineProperty(this, 'cause', { value: cause, enumerable: false, writable: true, configurable: true });
    return this;
  }
}

/** A class made by {@link defineError}: construct it with the template's arguments. */
export interface StrataErrorClass<A extends unknown[]> {
  new (...args: A): StrataError;
  /** The code every instance carries. */
  readonly code: string;
  /** The HTTP status every instance carries. */
  readonly statusCode: number;
  /** True when `value` is an error with this code, whichever copy of @strata/core created it. */
  is(value: unknown): value is StrataError;
}

/** A class errors of one code are revived as: one {@link defineError} made, or a subclass of it. */
type RevivableClass = abstract new (...args: never) => StrataError;

/** Every error class by code, as {@link defineError} fills it: what {@link reviveError} rebuilds. */
const registry = new Map<string, RevivableClass>();

/**
 * Defines an error class with a stable code, an HTTP status and a message template, and registers it
 * by code, so that {@link reviveError} rebuilds an error of this code that crossed a boundary as this
 * class. Each package keeps its definitions in its own errors.ts.
 */
export function defineError<A extends unknown[]>(
  code: string,
  statusCode: number,
  message: (...args: A) => string,
): StrataErrorClass<A> {
  const defined = class extends StrataError {
    static readonly code = code;
    static readonly statusCode = statusCode;
    static is(value: unknown): value is StrataError {
      return hasCode(value, code);
    }
    constructor(...args: A) {
      super(code, statusCode, message(...args));
    }
  };
  registry.set(code, defined);
  return defined;
}

/**
 * Makes `subclass`, which extends a class {@link defineError} made to add fields of its own (as
 * {@link CorruptionError} adds `file`), the class {@link reviveError} rebuilds errors of its code as.
 */
function revivedAs(subclass: RevivableClass & { readonly code: string }): void {
  registry.set(subclass.code, subclass);
}

/**
 * An error as it crosses a boundary (a chunk worker's thread, another node over HTTP): plain data
 * that survives `postMessage` and `JSON.stringify`. A Strata error keeps its `code` and
 * `statusCode`, and its own enumerable fields beyond those (CorruptionError's `file`) as fields of
 * their own; any other error keeps only its `message`.
 */
export interface SerializedError {
  readonly message: string;
  readonly code?: string;
  readonly statusCode?: number;
  /** The error's own data fields (CorruptionError's `file`): JSON values, errors among them serialized. */
  readonly [field: string]: unknown;
}

/** The fields every error has, or that are the error's own machinery: never carried as data. */
const NOT_DATA = new Set(['message', 'code', 'statusCode', 'name', 'stack', 'cause']);

/** `value` as JSON carries it: an error serialized, anything JSON cannot hold dropped. */
function dataValue(value: unknown): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (value instanceof Error) return serializeError(value);
  if (Array.isArray(value)) return value.map((item) => dataValue(item) ?? null);
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, dataValue(item)]));
  }
  return undefined;
}

/**
 * `error` as plain data, for {@link reviveError} on the other side of a boundary. A Strata error (one
 * with a string `code` and a numeric `statusCode`, from whichever copy of @strata/core) becomes its
 * code, status, message and own enumerable data fields; an error nested in a field is serialized in
 * turn. Any other error becomes `{ message }` only (its stack and fields stay on this side), and a
 * thrown non-error its `String()`.
 */
export function serializeError(error: unknown): SerializedError {
  if (!(error instanceof Error)) return { message: String(error) };
  const { code, statusCode } = error as { code?: unknown; statusCode?: unknown };
  if (typeof code !== 'string' || typeof statusCode !== 'number') return { message: error.message };
  const data: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(error)) {
    if (NOT_DATA.has(field)) continue;
    const carried = dataValue(value);
    if (carried !== undefined) data[field] = carried;
  }
  return { ...data, message: error.message, code, statusCode };
}

/**
 * The error `serialized` describes, rebuilt on this side of a boundary as the class registered for its
 * code (by {@link defineError}): `instanceof` that class and its `is()` hold, and `code`,
 * `statusCode`, `message` and the data fields are what was sent. Errors nested in data fields stay
 * {@link SerializedError}s, which `is()` and {@link hasCode} recognise by code. No constructor runs
 * (the message is already made), and the stack is this side's. A code no class is registered for
 * becomes a {@link StrataError} with that code; no code, a plain `Error`.
 */
export function reviveError(serialized: SerializedError): Error {
  const { message, code, statusCode } = serialized;
  if (typeof code !== 'string') return new Error(String(message));
  const status = typeof statusCode === 'number' ? statusCode : 500;
  const error: StrataError = Reflect.construct(
    StrataError,
    [code, status, String(message)],
    registry.get(code) ?? StrataError,
  );
  for (const [field, value] of Object.entries(serialized)) {
    if (NOT_DATA.has(field)) continue;
    // Defined, not assigned: a field named `__proto__` from the wire stays a field.
    Object.defineProperty(error, field, { value, enumerable: true, writable: true, configurable: true });
  }
  return error;
}

/** True when `value` is an error carrying `code` (works across installed copies of @strata/core). */
export function hasCode(value: unknown, code: string): boolean {
  return typeof value === 'object' && value !== null && (value as { code?: unknown }).code === code;
}

/** How many characters of a value an error message quotes. */
export const QUOTE_LIMIT = 256;

/**
 * A value as an error message quotes it: whole up to `limit` characters, else its first `limit` and
 * how many more there were, so a 50 MB backup id makes a short message, not a 50 MB error body.
 * Use it wherever a message echoes what a request sent (ids, class and property names, keys, paths).
 */
export function excerpt(value: unknown, limit = QUOTE_LIMIT): string {
  const text = String(value);
  if (text.length <= limit) return text;
  const last = text.charCodeAt(limit - 1);
  // Never cut a surrogate pair in two.
  const end = last >= 0xd800 && last <= 0xdbff ? limit - 1 : limit;
  return `${text.slice(0, end)}...(${text.length - end} more characters)`;
}

const quoteList = (items: readonly string[]): string => items.map((item) => `"${item}"`).join(', ');

/** `value` as JSON for a message (`"a/b"`, `null`, `nothing` when undefined), cut as {@link excerpt} cuts. */
export function quoted(value: unknown): string {
  return value === undefined ? 'nothing' : excerpt(JSON.stringify(value) ?? String(value));
}

// ---------------------------------------------------------------------------------------------
// Provider contract: raised by backends (any package) and relied on by core.
// ---------------------------------------------------------------------------------------------

/** A backend was asked to read an object that does not exist. Core relies on this type. */
export const NotFoundError = defineError(
  'STRATA_BACKEND_NOT_FOUND',
  404,
  (key: string, where: string) => `object "${excerpt(key)}" not found in ${excerpt(where)}`,
);

/** A key or backup id that is empty, absolute, contains `.`/`..` segments, NUL or is too long. */
export const InvalidKeyError = defineError(
  'STRATA_BACKEND_INVALID_KEY',
  422,
  (key: string, problem: string) => `invalid object key ${JSON.stringify(excerpt(key))}: ${problem}`,
);

/** A per-request bucket or path override that this backend cannot honour. */
export const UnsupportedScopeError = defineError(
  'STRATA_BACKEND_UNSUPPORTED_SCOPE',
  422,
  (module: string, problem: string) => `${module}: ${problem}`,
);

/**
 * What a module's configuration parser found wrong with a value, for {@link ConfigValueError}: what
 * is wrong, what was expected, what to do instead (at least one of them). Never the value itself:
 * core adds the variable's name and the value, or `***` for a secret. A part of the value that makes
 * the problem clear (a URL's scheme) may appear in `problem`.
 */
export type ConfigValueProblem =
  | {
      /** What the value should be, read after "expected": `a part size from 5MiB to 1GiB`. */
      readonly expected: string;
      /** What is wrong with it: `the endpoint must not contain credentials`. */
      readonly problem?: string;
      /** What to do instead: `use http:// or https://`. */
      readonly fix?: string;
    }
  | { readonly problem: string; readonly fix?: string }
  | { readonly fix: string };

/**
 * Thrown by a module's configuration parser (`EnvVarSpec.parse`) for a value it cannot use. The
 * message is `<problem>; expected <expected>; <fix>`, each part present when given:
 *
 * ```ts
 * throw new ConfigValueError({ expected: 'at most 4000MiB, the largest block Azure takes' });
 * // expected at most 4000MiB, the largest block Azure takes
 * throw new ConfigValueError({ problem: `the scheme ${url.protocol}// is not supported`, fix: 'use http:// or https://' });
 * // the scheme ftp:// is not supported; use http:// or https://
 * ```
 *
 * Core reports it as `STRATA_MODULE_CONFIG_INVALID`: `<module>: <VARIABLE>="<value>" is invalid: <message>`.
 */
export const ConfigValueError = defineError('STRATA_CONFIG_INVALID_VALUE', 500, (wrong: ConfigValueProblem) => {
  // A module built against an older @strata/core passes its message as a string: keep it whole.
  if (typeof wrong === 'string') return wrong;
  const { problem, expected, fix } = wrong as { problem?: string; expected?: string; fix?: string };
  return [problem, expected === undefined ? undefined : `expected ${expected}`, fix]
    .filter((part) => part !== undefined && part !== '')
    .join('; ');
});

// The ready-made parsers (provider/config.ts `parsers`), one error per way a value is refused.

export const NotBooleanError = defineError('STRATA_CONFIG_NOT_BOOLEAN', 500, () => 'expected true or false');

export const NotIntegerError = defineError('STRATA_CONFIG_NOT_INTEGER', 500, () => 'expected a whole number');

export const OutOfRangeError = defineError(
  'STRATA_CONFIG_OUT_OF_RANGE',
  500,
  (min: number, max: number) => `expected a number from ${min} to ${max}`,
);

export const NotByteSizeError = defineError(
  'STRATA_CONFIG_NOT_BYTE_SIZE',
  500,
  () => 'expected a size such as 10MiB, 500KB or 1048576',
);

export const ByteSizeTooSmallError = defineError(
  'STRATA_CONFIG_BYTE_SIZE_TOO_SMALL',
  500,
  () => 'expected a size of at least 1 byte',
);

export const NotOneOfError = defineError(
  'STRATA_CONFIG_NOT_ONE_OF',
  500,
  (values: readonly string[]) => `expected one of ${values.join(', ')}`,
);

export const PathHasNulError = defineError('STRATA_CONFIG_PATH_NUL', 500, () => 'the path contains a NUL character');

export const RelativePathError = defineError(
  'STRATA_CONFIG_PATH_RELATIVE',
  500,
  () => 'relative path provided; use an absolute path such as /var/lib/strata/backups',
);

// ---------------------------------------------------------------------------------------------
// Module system: ENABLE_MODULES -> resolve -> validate -> configure -> register.
// ---------------------------------------------------------------------------------------------

export const ModuleNotFoundError = defineError(
  'STRATA_MODULE_NOT_FOUND',
  500,
  (entry: string, appDir: string, tried: readonly string[], install: string) =>
    `ENABLE_MODULES entry "${entry}" cannot be found from ${appDir}: tried ${quoteList(tried)}. ${install}`,
);

export const ModuleImportError = defineError(
  'STRATA_MODULE_IMPORT_FAILED',
  500,
  (entry: string, file: string, reason: string) =>
    `ENABLE_MODULES entry "${entry}": importing ${file} failed: ${reason}`,
);

export const ModuleNotBrandedError = defineError(
  'STRATA_MODULE_NOT_BRANDED',
  500,
  (entry: string, pkg: string) =>
    `ENABLE_MODULES entry "${entry}" loaded ${pkg}, which is not a Strata backup module: its default export ` +
    `was not made by defineBackupModule() from @strata/core. Export the module definition as the default export.`,
);

export const ModuleInvalidDefinitionError = defineError(
  'STRATA_MODULE_INVALID_DEFINITION',
  500,
  (entry: string, pkg: string, problem: string) =>
    `ENABLE_MODULES entry "${entry}" loaded ${pkg}, whose module definition is invalid: ${problem}`,
);

export const ModuleNameMismatchError = defineError(
  'STRATA_MODULE_NAME_MISMATCH',
  500,
  (entry: string, pkg: string, expected: string, actual: string) =>
    `ENABLE_MODULES entry "${entry}" loaded ${pkg}, but that module calls itself "${actual}", not "${expected}". ` +
    `Check that the right package is installed under that name.`,
);

export const ModuleApiVersionError = defineError(
  'STRATA_MODULE_API_UNSUPPORTED',
  500,
  (module: string, pkg: string, actual: number, supported: readonly number[], coreVersion: string) =>
    `module "${module}" (${pkg}) implements module API version ${actual}, but @strata/core ${coreVersion} ` +
    `supports module API version ${supported.join(', ')}. Install a release of the module built for module API ` +
    `${supported[supported.length - 1]}, or a release of @strata/core that supports version ${actual}.`,
);

export const ModuleNameConflictError = defineError(
  'STRATA_MODULE_NAME_CONFLICT',
  500,
  (name: string, first: string, second: string) =>
    `modules ${first} and ${second} both answer to the name "${name}"; enable only one of them.`,
);

export const ModuleDuplicateDependencyError = defineError(
  'STRATA_MODULE_DUPLICATE_DEPENDENCY',
  500,
  (entry: string, pkg: string, dependency: string, moduleCopy: string, coreCopy: string) =>
    `ENABLE_MODULES entry "${entry}" (${pkg}) would load its own copy of ${dependency} (${moduleCopy}), not the ` +
    `one @strata/core uses (${coreCopy}). Two copies mean two DI containers, and the module's services would be ` +
    `invisible to core. Declare ${dependency} as a peerDependency of ${pkg} (not a dependency), then reinstall ` +
    `so that one copy remains (npm dedupe, or pnpm install).`,
);

export const ModuleConfigMissingError = defineError(
  'STRATA_MODULE_CONFIG_MISSING',
  500,
  (module: string, variable: string, alternatives: readonly string[], description: string) =>
    `${module}: ${variable} is required but not set` +
    (alternatives.length > 0 ? ` (nor ${alternatives.join(', ')})` : '') +
    `. ${description}`,
);

export const ModuleConfigInvalidError = defineError(
  'STRATA_MODULE_CONFIG_INVALID',
  500,
  (module: string, variable: string, shownValue: string, problem: string) =>
    `${module}: ${variable}=${shownValue} is invalid: ${problem}`,
);

export const ModuleRegisterError = defineError(
  'STRATA_MODULE_REGISTER_FAILED',
  500,
  (module: string, reason: string) => `module "${module}" failed to start: ${reason}`,
);

export const ModuleNoBackendError = defineError(
  'STRATA_MODULE_NO_BACKEND',
  500,
  (module: string) =>
    `module "${module}" did not register a backup backend: its register() must call ` +
    `container.register(BACKUP_BACKEND, { useValue | useFactory | useClass })`,
);

/** `<subject>: N problems:` followed by one indented line per problem, with its code. */
function listProblems(subject: string, problems: readonly StrataError[]): string {
  return (
    `${subject}: ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n` +
    problems.map((problem) => `  - ${problem.message.replaceAll('\n', '\n    ')} [${problem.code}]`).join('\n')
  );
}

const ModulesInvalid = defineError(
  'STRATA_MODULES_INVALID',
  500,
  (enableModules: string, problems: readonly StrataError[]) =>
    listProblems(`ENABLE_MODULES=${enableModules}`, problems),
);

/** Every problem found while loading ENABLE_MODULES, reported together rather than the first one only. */
export class ModulesInvalidError extends ModulesInvalid {
  /** Each problem, with its own code. */
  readonly problems: readonly StrataError[];

  constructor(enableModules: string, problems: readonly StrataError[]) {
    super(enableModules, problems);
    this.problems = problems;
  }
}
revivedAs(ModulesInvalidError);

/** A request named a backend that no enabled module provides. Weaviate's wording and status. */
export const BackendNotEnabledError = defineError(
  'STRATA_BACKUP_BACKEND_NOT_ENABLED',
  422,
  (backend: string) =>
    `no backup backend "${excerpt(backend)}": backup: ${excerpt(backend)} not found, did you enable the right module?`,
);

// ---------------------------------------------------------------------------------------------
// LSM store (core/src/store).
// ---------------------------------------------------------------------------------------------

const CorruptionBase = defineError(
  'STRATA_STORE_CORRUPTION',
  500,
  (file: string, detail: string) => `corruption in ${file}: ${detail}`,
);

/**
 * Data on disk failed a checksum or does not parse. A category, not only a message: test with
 * {@link isCorruption}, which also recognises corruption wrapped as the `cause` of another error.
 */
export class CorruptionError extends CorruptionBase {
  /** The file (relative to the store directory) that is corrupt. */
  readonly file: string;

  constructor(file: string, detail: string) {
    super(file, detail);
    this.file = file;
  }
}
revivedAs(CorruptionError);

/**
 * True when `error`, or any error in its `cause` chain, reports damaged data: a store file
 * ({@link CorruptionError}, `STRATA_STORE_CORRUPTION`) or a backup's descriptor or chunk
 * (`BackupCorruptError`, `STRATA_BACKUP_CORRUPT`). Recognised by code, so errors revived from
 * another thread or node and errors of another copy of @strata/core count too.
 */
export function isCorruption(error: unknown): boolean {
  for (let current = error; current instanceof Error; current = current.cause) {
    if (hasCode(current, CorruptionError.code) || hasCode(current, BackupCorruptError.code)) return true;
  }
  return false;
}

export const StoreLockedError = defineError(
  'STRATA_STORE_LOCKED',
  409,
  (directory: string, holder: string) =>
    `store directory ${directory} is in use by ${holder}. Stop that process (or close the store) first; ` +
    `only one may open a store directory at a time.`,
);

export const StoreClosedError = defineError(
  'STRATA_STORE_CLOSED',
  503,
  (directory: string) => `store ${directory} is closed`,
);

export const StoreWriteFailedError = defineError(
  'STRATA_STORE_WRITE_FAILED',
  503,
  (directory: string, reason: string) =>
    `store ${directory} could not write its write-ahead log (${reason}); the write was not applied. ` +
    `Check free disk space and permissions.`,
);

export const StoreFailedError = defineError(
  'STRATA_STORE_FAILED',
  503,
  (directory: string, reason: string) =>
    `store ${directory} stopped accepting writes after an unrecoverable error: ${reason}. Reopen it to recover ` +
    `from its files.`,
);

export const StoreNotPausedError = defineError(
  'STRATA_STORE_NOT_PAUSED',
  409,
  (operation: string) => `${operation} needs compaction paused: call pauseCompaction() first`,
);

export const InvalidBucketError = defineError(
  'STRATA_STORE_INVALID_BUCKET',
  422,
  (name: string) =>
    `invalid bucket name ${JSON.stringify(excerpt(name))}: use 1 to 64 characters from letters, digits, "_", "-" and "."`,
);

export const EntryTooLargeError = defineError(
  'STRATA_STORE_ENTRY_TOO_LARGE',
  413,
  (what: string, size: number, limit: number) => `${what} of ${size} bytes exceeds the limit of ${limit} bytes`,
);

// ---------------------------------------------------------------------------------------------
// The node: its own configuration.
// ---------------------------------------------------------------------------------------------

/** CLUSTER_HOSTNAME is not a node name (db/names.ts NODE_NAME; a test keeps the two rules in step). */
export const InvalidNodeNameError = defineError(
  'STRATA_NODE_INVALID_NAME',
  500,
  () => 'use 1 to 64 letters, digits, "_", "-" and "." (but not "." or "..")',
);

export const InvalidEtcdEndpointError = defineError(
  'STRATA_NODE_INVALID_ETCD_ENDPOINT',
  500,
  (endpoint: string) =>
    `${JSON.stringify(excerpt(endpoint))} is not an etcd client URL: give each as http://host:port (or https://), ` +
    'comma-separated, e.g. http://127.0.0.1:2379',
);

export const InvalidAdvertiseAddressError = defineError(
  'STRATA_NODE_INVALID_ADVERTISE_ADDRESS',
  500,
  () => 'expected a host name or an IP address, without a scheme or a port (the port is CLUSTER_DATA_BIND_PORT)',
);

export const ClusterAuthIncompleteError = defineError(
  'STRATA_NODE_CLUSTER_AUTH_INCOMPLETE',
  500,
  () =>
    'CLUSTER_BASIC_AUTH_USERNAME and CLUSTER_BASIC_AUTH_PASSWORD go together: set both (the same on every node) ' +
    'or neither',
);

export const ApiKeysMissingError = defineError(
  'STRATA_NODE_API_KEYS_MISSING',
  500,
  () =>
    'AUTHENTICATION_APIKEY_ENABLED is true, but AUTHENTICATION_APIKEY_ALLOWED_KEYS is empty: set the keys clients ' +
    'must present, comma-separated',
);

export const ApiKeyUsersMismatchError = defineError(
  'STRATA_NODE_API_KEY_USERS_MISMATCH',
  500,
  (users: number, keys: number) =>
    `AUTHENTICATION_APIKEY_USERS names ${users} users for ${keys} keys: give one user for all keys, or one per key`,
);

const NodeConfigInvalid = defineError('STRATA_NODE_CONFIG_INVALID', 500, (problems: readonly StrataError[]) =>
  listProblems('node configuration', problems),
);

/** Every problem of the node's own variables (PERSISTENCE_DATA_PATH, AUTHENTICATION_*, ...), together. */
export class NodeConfigInvalidError extends NodeConfigInvalid {
  readonly problems: readonly StrataError[];

  constructor(problems: readonly StrataError[]) {
    super(problems);
    this.problems = problems;
  }
}
revivedAs(NodeConfigInvalidError);

// ---------------------------------------------------------------------------------------------
// Database: classes and objects (core/src/db). Messages follow Weaviate's where it has one.
// ---------------------------------------------------------------------------------------------

export const DataPathLockedError = defineError(
  'STRATA_DATA_PATH_LOCKED',
  409,
  (dataPath: string, holder: string) =>
    `PERSISTENCE_DATA_PATH ${dataPath} is in use by another Strata node (${holder}). Stop that node, or start ` +
    `this one with another PERSISTENCE_DATA_PATH.`,
);

// A class definition that breaks Weaviate's rules, or asks for what Strata does not do: one error per
// rule, each with Weaviate's wording where it has one.

export const ClassNotObjectError = defineError(
  'STRATA_DB_CLASS_NOT_OBJECT',
  422,
  () => 'the class must be a JSON object',
);

export const ClassNameMissingError = defineError('STRATA_DB_CLASS_NAME_MISSING', 422, () => 'class name is required');

export const ClassNameTooLongError = defineError(
  'STRATA_DB_CLASS_NAME_TOO_LONG',
  422,
  (name: string, limit: number) =>
    `'${excerpt(name)}' is not a valid class name. Name should not be longer than ${limit} characters`,
);

export const InvalidClassNameError = defineError(
  'STRATA_DB_CLASS_NAME_INVALID',
  422,
  (name: string) => `'${excerpt(name)}' is not a valid class name`,
);

export const ReplicationUnsupportedError = defineError(
  'STRATA_DB_REPLICATION_UNSUPPORTED',
  422,
  (className: string, factor: unknown) =>
    `class '${excerpt(className)}': replicationConfig.factor ${quoted(factor)} is not supported: Strata keeps one ` +
    'copy of each shard; create the class with factor 1 (or without replicationConfig)',
);

export const MultiTenancyUnsupportedError = defineError(
  'STRATA_DB_MULTI_TENANCY_UNSUPPORTED',
  422,
  (className: string) =>
    `class '${excerpt(className)}': multi-tenancy is not supported by Strata; create the class without ` +
    'multiTenancyConfig.enabled',
);

export const VectorizerUnsupportedError = defineError(
  'STRATA_DB_VECTORIZER_UNSUPPORTED',
  422,
  (vectorizer: unknown) =>
    `vectorizer: no module with name "${excerpt(vectorizer)}" present: Strata has no vectorizer modules; ` +
    'use "none" and send vectors with the objects',
);

export const PropertiesNotArrayError = defineError(
  'STRATA_DB_PROPERTIES_NOT_ARRAY',
  422,
  (className: string) => `class '${excerpt(className)}': properties must be an array`,
);

export const TooManyPropertiesError = defineError(
  'STRATA_DB_TOO_MANY_PROPERTIES',
  422,
  (className: string, limit: number) =>
    `class '${className}' declares more than ${limit} properties (nested ones included), the limit`,
);

export const PropertyConflictError = defineError(
  'STRATA_DB_PROPERTY_CONFLICT',
  422,
  (className: string, property: string) =>
    `class "${excerpt(className)}": conflict for property "${excerpt(property)}": already in use or provided ` +
    'multiple times',
);

export const PropertyNameMissingError = defineError(
  'STRATA_DB_PROPERTY_NAME_MISSING',
  422,
  () => 'property: name is required',
);

export const PropertyNameTooLongError = defineError(
  'STRATA_DB_PROPERTY_NAME_TOO_LONG',
  422,
  (name: string, limit: number) =>
    `'${excerpt(name)}' is not a valid property name. Name should not be longer than ${limit} characters`,
);

/** `pattern` is the rule's regular expression source, without its anchors. */
export const InvalidPropertyNameError = defineError(
  'STRATA_DB_PROPERTY_NAME_INVALID',
  422,
  (name: string, pattern: string) =>
    `'${excerpt(name)}' is not a valid property name. Property names in Weaviate are restricted to valid GraphQL ` +
    `names, which must be “/${pattern}/”`,
);

export const ReservedPropertyNameError = defineError(
  'STRATA_DB_PROPERTY_NAME_RESERVED',
  422,
  (name: string) => `'${excerpt(name)}' is a reserved property name`,
);

export const DataTypeLengthError = defineError(
  'STRATA_DB_DATA_TYPE_LENGTH',
  422,
  (property: string) => `property '${excerpt(property)}': invalid dataType: dataType must be an array of length 1`,
);

export const UnknownDataTypeError = defineError(
  'STRATA_DB_DATA_TYPE_UNKNOWN',
  422,
  (property: string, type: string) =>
    `property '${excerpt(property)}': invalid dataType: data type not found: ${excerpt(type)}`,
);

export const CrossReferenceUnsupportedError = defineError(
  'STRATA_DB_CROSS_REFERENCE_UNSUPPORTED',
  422,
  (property: string, className: string, target: string) =>
    `property '${excerpt(property)}' of class '${excerpt(className)}' is a cross-reference to '${excerpt(target)}': ` +
    'Strata does not support cross-references; store the target ids in a uuid[] property instead',
);

export const NestingTooDeepError = defineError(
  'STRATA_DB_NESTING_TOO_DEEP',
  422,
  (property: string, limit: number) => `property '${property}': nested properties may be at most ${limit} levels deep`,
);

export const NestedPropertiesMissingError = defineError(
  'STRATA_DB_NESTED_PROPERTIES_MISSING',
  422,
  (property: string) =>
    `property '${excerpt(property)}': at least one nested property is required for data type object/object[]`,
);

/** `pattern` is the rule's regular expression source, without its anchors. */
export const InvalidNestedPropertyNameError = defineError(
  'STRATA_DB_NESTED_PROPERTY_NAME_INVALID',
  422,
  (name: string, parent: string, pattern: string) =>
    `'${excerpt(name)}' is not a valid nested property name of '${excerpt(parent)}'. NestedProperty names in ` +
    `Weaviate are restricted to valid GraphQL names, which must be “/${pattern}/”`,
);

/** A tokenization or index flag of the wrong JSON type (Weaviate's REST layer refuses those before its rules). */
export const PropertyFieldTypeError = defineError(
  'STRATA_DB_PROPERTY_FIELD_TYPE',
  422,
  (property: string, field: string, type: string) => `property '${excerpt(property)}': ${field} must be a ${type}`,
);

export const TokenizationOnNonTextError = defineError('STRATA_DB_TOKENIZATION_ON_NON_TEXT', 422, (type: string) =>
  type === 'object' || type === 'object[]'
    ? 'tokenization is not allowed for object/object[] data types'
    : `tokenization is not allowed for data type '${type}'`,
);

export const TokenizationNotAllowedError = defineError(
  'STRATA_DB_TOKENIZATION_NOT_ALLOWED',
  422,
  (tokenization: string, type: string) =>
    `tokenization '${excerpt(tokenization)}' is not allowed for data type '${type}'`,
);

/** Weaviate's optional tokenizers (GSE, Kagome) need a variable set; Strata has none of them. */
export const TokenizerNotEnabledError = defineError(
  'STRATA_DB_TOKENIZER_NOT_ENABLED',
  422,
  (label: string, variable: string) =>
    `the ${label} tokenizer is not enabled; Strata has no optional tokenizers (Weaviate's ${variable}): use ` +
    'word, lowercase, whitespace, field or trigram',
);

export const IndexInvertedConflictError = defineError(
  'STRATA_DB_INDEX_INVERTED_CONFLICT',
  422,
  () =>
    '`indexInverted` is deprecated and can not be set together with `indexFilterable`, `indexSearchable` or ' +
    '`indexRangeFilters`',
);

export const NestedPropertiesNotAllowedError = defineError(
  'STRATA_DB_NESTED_PROPERTIES_NOT_ALLOWED',
  422,
  (property: string) =>
    `property '${excerpt(property)}': nestedProperties not allowed for data types other than object/object[]`,
);

/** A nested property of a type Weaviate keeps to the top level (`path` is `parent.name`). */
export const NestedDataTypeNotAllowedError = defineError(
  'STRATA_DB_NESTED_DATA_TYPE_NOT_ALLOWED',
  422,
  (path: string, type: string) =>
    type === 'string' || type === 'string[]'
      ? `property '${excerpt(path)}': data type '${type}' is deprecated and not allowed as nested property`
      : `property '${excerpt(path)}': data type '${type}' not allowed as nested property`,
);

/** A nested property's tokenization, in Weaviate's nested wording (`tokenization` undefined: any is refused). */
export const NestedTokenizationNotAllowedError = defineError(
  'STRATA_DB_NESTED_TOKENIZATION_NOT_ALLOWED',
  422,
  (path: string, type: string, tokenization?: string) =>
    tokenization !== undefined
      ? `property '${excerpt(path)}': Tokenization '${excerpt(tokenization)}' is not allowed for data type '${type}'`
      : type === 'object' || type === 'object[]'
        ? `property '${excerpt(path)}': Tokenization is not allowed for object/object[] data types`
        : `property '${excerpt(path)}': Tokenization is not allowed for data type '${type}'`,
);

/** An index flag a nested property's type does not allow, in Weaviate's nested wording. */
export const NestedIndexNotAllowedError = defineError(
  'STRATA_DB_NESTED_INDEX_NOT_ALLOWED',
  422,
  (path: string, flag: 'indexFilterable' | 'indexSearchable' | 'indexRangeFilters') =>
    flag === 'indexFilterable'
      ? `property: '${excerpt(path)}': indexFilterable is not allowed for blob data type`
      : flag === 'indexSearchable'
        ? `property '${excerpt(path)}': \`indexSearchable\` is not allowed for other than text/text[] data types`
        : `property '${excerpt(path)}': \`indexRangeFilters\` is not allowed for other than number/int/date data types`,
);

export const IndexSearchableNotAllowedError = defineError(
  'STRATA_DB_INDEX_SEARCHABLE_NOT_ALLOWED',
  422,
  () => '`indexSearchable` is allowed only for text/text[] data types. For other data types set false or leave empty',
);

export const IndexRangeFiltersNotAllowedError = defineError(
  'STRATA_DB_INDEX_RANGE_FILTERS_NOT_ALLOWED',
  422,
  () =>
    '`indexRangeFilters` is allowed only for number/int/date data types. For other data types set false or leave ' +
    'empty',
);

export const ShardCountError = defineError(
  'STRATA_DB_SHARD_COUNT_INVALID',
  422,
  (limit: number) => `shardingConfig.desiredCount must be a whole number from 1 to ${limit}`,
);

export const ClassExistsError = defineError(
  'STRATA_DB_CLASS_EXISTS',
  422,
  (name: string) => `class name ${excerpt(name)} already exists`,
);

/** A class a request names does not exist: 422 where Weaviate answers so (object writes), else 404. */
export const ClassNotFoundError = defineError(
  'STRATA_DB_CLASS_NOT_FOUND',
  422,
  (name: string) => `class ${JSON.stringify(excerpt(name))} not found in schema`,
);

// An object that does not fit its class, or that breaks a limit: one error per rule, each with
// Weaviate's wording where it has one.

export const ObjectClassMissingError = defineError(
  'STRATA_DB_OBJECT_CLASS_MISSING',
  422,
  () => 'the given class is empty',
);

export const ObjectClassMismatchError = defineError(
  'STRATA_DB_OBJECT_CLASS_MISMATCH',
  422,
  (inBody: string, inPath: string) => `class in body '${inBody}' does not match class in path '${inPath}'`,
);

export const ObjectIdMismatchError = defineError(
  'STRATA_DB_OBJECT_ID_MISMATCH',
  422,
  (inBody: string, inPath: string) => `id in body '${inBody}' does not match id in path '${inPath}'`,
);

export const InvalidObjectIdError = defineError(
  'STRATA_DB_OBJECT_ID_INVALID',
  422,
  (id: unknown) => `id in body must be of type uuid: ${quoted(id)}`,
);

export const TenantUnsupportedError = defineError(
  'STRATA_DB_OBJECT_TENANT',
  422,
  (className: string) => `class ${className} has multi-tenancy disabled, but request was with tenant`,
);

export const ObjectTooLargeError = defineError(
  'STRATA_DB_OBJECT_TOO_LARGE',
  422,
  (bytes: number, limit: number) => `the object is ${bytes} bytes as JSON, more than the limit of ${limit} bytes`,
);

/** `type` is what the properties were instead: `array`, `string`, `null`... */
export const PropertiesNotMapError = defineError(
  'STRATA_DB_PROPERTIES_NOT_MAP',
  422,
  (type: string) => `properties of object must be of type map[string]interface, but got ${type}`,
);

export const UnknownPropertyError = defineError(
  'STRATA_DB_PROPERTY_UNKNOWN',
  422,
  (name: string, className: string) =>
    `no such prop with name '${excerpt(name)}' found in class '${className}' in the schema. Check your schema files ` +
    'for which properties in this class are available',
);

/** `problem` is one of {@link propertyValueProblems}. */
export const InvalidPropertyValueError = defineError(
  'STRATA_DB_PROPERTY_VALUE_INVALID',
  422,
  (type: string, name: string, className: string, problem: string) =>
    `invalid ${type.replace('[]', ' array')} property '${excerpt(name)}' on class '${className}': ${problem}`,
);

/**
 * Why a property value does not fit its data type: the end of an {@link InvalidPropertyValueError}'s
 * message, in Weaviate's words. A nested value's problem wraps its own (`property 'a.b': element 2: ...`).
 */
export const propertyValueProblems = {
  notString: (type: string) => `not a string, but ${type}`,
  notInteger: (value: unknown) => `requires an integer, the given value is '${excerpt(value)}'`,
  notFloat: (value: unknown) => `requires a float, the given value is '${excerpt(value)}'`,
  notBoolean: (value: unknown) => `requires a bool, the given value is '${excerpt(value)}'`,
  notDate: (value: unknown) =>
    `requires a string with a RFC3339 formatted date, but the given value is '${excerpt(value)}'`,
  notUuid: (value: unknown) => `requires a string with a valid UUID, the given value is '${excerpt(value)}'`,
  notBase64: () => 'requires a base64 encoded string',
  notGeoCoordinates: () => 'requires an object with numeric latitude and longitude',
  notPhoneNumber: () => 'requires an object with a string input',
  notMap: (type: string) => `object must be a map, but got: ${type}`,
  unknownType: (type: string) => `unrecognized data type '${type}'`,
  unknownNested: (path: string) => `unknown nested property '${excerpt(path)}'`,
  inNested: (path: string, problem: string) => `property '${excerpt(path)}': ${problem}`,
  notArray: (type: string) => `not an array, but ${type}`,
  tooManyItems: (count: number, limit: number) => `it has ${count} items, more than the limit of ${limit}`,
  inElement: (index: number, problem: string) => `element ${index}: ${problem}`,
} as const;

export const InvalidVectorError = defineError(
  'STRATA_DB_VECTOR_INVALID',
  422,
  (field: string) => `${field} must be an array of numbers`,
);

export const VectorTooLongError = defineError(
  'STRATA_DB_VECTOR_TOO_LONG',
  422,
  (field: string, dimensions: number, limit: number) =>
    `${field} has ${dimensions} dimensions, more than the limit of ${limit}`,
);

export const NamedVectorsNotObjectError = defineError(
  'STRATA_DB_VECTORS_NOT_OBJECT',
  422,
  () => 'vectors must be an object of named vectors',
);

export const TooManyNamedVectorsError = defineError(
  'STRATA_DB_TOO_MANY_VECTORS',
  422,
  (count: number, limit: number) => `vectors has ${count} named vectors, more than the limit of ${limit}`,
);

export const ObjectExistsError = defineError(
  'STRATA_DB_OBJECT_EXISTS',
  422,
  (id: string) => `id '${excerpt(id)}' already exists`,
);

export const ObjectNotFoundError = defineError(
  'STRATA_DB_OBJECT_NOT_FOUND',
  404,
  (className: string, id: string) => `no object with id '${excerpt(id)}' in class '${excerpt(className)}'`,
);

export const QueryLimitError = defineError(
  'STRATA_DB_QUERY_LIMIT',
  422,
  (limit: number) => `query maximum results exceeded: offset + limit must not exceed ${limit}`,
);

export const QueryPageTooLargeError = defineError(
  'STRATA_DB_QUERY_PAGE_TOO_LARGE',
  422,
  (limit: number) =>
    `the objects of this page take more than ${limit} bytes, the most one answer may hold: ask for fewer with limit`,
);

export const SchemaFileError = defineError(
  'STRATA_DB_SCHEMA_FILE',
  500,
  (file: string, reason: string) =>
    `cannot read the schema ${file}: ${reason}. Restore it from a backup, or move the data path aside to start empty.`,
);

/** An object operation reached a node that does not have the object's shard open: the router sent it astray. */
export const ShardNotLocalError = defineError(
  'STRATA_DB_SHARD_NOT_LOCAL',
  500,
  (className: string, shardName: string, nodeName: string) =>
    `shard ${excerpt(shardName)} of class ${excerpt(className)} is on node ${excerpt(nodeName)}, not on this node: ` +
    `the request must go to node ${excerpt(nodeName)}`,
);

/** A class record from elsewhere (the cluster's schema) that cannot be applied; `field` names what is wrong. */
export const ClassRecordInvalidError = defineError(
  'STRATA_DB_CLASS_RECORD_INVALID',
  422,
  (field: string, problem: string) => `the class record's ${field} ${problem}`,
);

/**
 * A restore held for a cluster (`Database.holdRestored`) would move a shard into a directory that
 * exists already, though no class of the node has it: a leftover, never overwritten.
 */
export const ShardDirectoryExistsError = defineError(
  'STRATA_DB_SHARD_DIRECTORY_EXISTS',
  500,
  (className: string, shard: string, directory: string) =>
    `cannot restore shard ${excerpt(shard)} of class ${excerpt(className)}: its directory ${excerpt(directory)} ` +
    'exists already, though no class of this node has it (left by a crash or an earlier restore). Nothing was ' +
    'moved. Move that directory out of the data path (restarting the node moves every directory no class ' +
    'accounts for to .orphaned/), then restore again',
);

// ---------------------------------------------------------------------------------------------
// Backup and restore (core/src/backup). Messages are Weaviate's where it has one.
// ---------------------------------------------------------------------------------------------

/** Weaviate's message for a wrong character; Strata's own for an id over `limit` characters. */
export const InvalidBackupIdError = defineError('STRATA_BACKUP_INVALID_ID', 422, (id: string, limit: number) =>
  id.length > limit
    ? `invalid backup id: it is ${id.length} characters long, more than the limit of ${limit}`
    : `invalid backup id: '${excerpt(id)}' allowed characters are lowercase, 0-9, _, -`,
);

/** Go's %v of a string slice, as Weaviate's messages print class lists: `[A B C]`. */
const goList = (items: readonly string[]) => `[${items.map((item) => excerpt(item)).join(' ')}]`;

export const IncrementalBackupUnsupportedError = defineError(
  'STRATA_BACKUP_INCREMENTAL_UNSUPPORTED',
  422,
  (base: string) =>
    `incremental backups are not supported: Strata takes full backups only; ` +
    `leave out incremental_base_backup_id (given: ${quoted(base)}) for a full backup`,
);

export const BackupBothListsError = defineError(
  'STRATA_BACKUP_BOTH_LISTS',
  422,
  () => "malformed request: 'include' and 'exclude' cannot both contain values",
);

export const BackupDuplicateClassError = defineError(
  'STRATA_BACKUP_DUPLICATE_CLASS',
  422,
  (entry: string) => `class list 'include' contains duplicate: ${excerpt(entry)}`,
);

export const BackupNoClassesError = defineError(
  'STRATA_BACKUP_NO_CLASSES',
  422,
  () => "no available classes to backup, there's nothing to do here",
);

export const BackupUnknownClassError = defineError(
  'STRATA_BACKUP_UNKNOWN_CLASS',
  422,
  (kind: 'backup' | 'restore', name: string, available: readonly string[]) =>
    kind === 'backup'
      ? `class ${excerpt(name)} doesn't exist`
      : `class ${excerpt(name)} doesn't exist in the backup, but does have ${goList(available)}`,
);

export const BackupEmptySelectionError = defineError(
  'STRATA_BACKUP_EMPTY_SELECTION',
  422,
  (kind: 'backup' | 'restore', available: readonly string[]) =>
    kind === 'backup'
      ? `empty class list: please choose from : ${goList(available)}`
      : `nothing left to restore: please choose from : ${goList(available)}`,
);

export const BackupSelectionTooLargeError = defineError(
  'STRATA_BACKUP_SELECTION_TOO_LARGE',
  422,
  (list: 'include' | 'exclude', entries: number, limit: number) =>
    `class list '${list}' has ${entries} entries; at most ${limit} are allowed: select classes with wildcards, e.g. 'Article*'`,
);

export const BackupTooManyPatternsError = defineError(
  'STRATA_BACKUP_TOO_MANY_PATTERNS',
  422,
  (list: 'include' | 'exclude', patterns: number, limit: number) =>
    `class list '${list}' has ${patterns} wildcard patterns; at most ${limit} are allowed`,
);

/** A malformed `include`/`exclude` pattern; `problem` says what is wrong with it, and where. */
export const InvalidClassPatternError = defineError(
  'STRATA_BACKUP_INVALID_REQUEST',
  422,
  (pattern: string, problem: string) => `invalid class pattern '${excerpt(pattern)}': ${problem}`,
);

export const BackupExistsError = defineError(
  'STRATA_BACKUP_EXISTS',
  422,
  (id: string, home: string) =>
    `backup ${JSON.stringify(excerpt(id))} already exists at ${JSON.stringify(excerpt(home))}`,
);

export const BackupNotFoundError = defineError(
  'STRATA_BACKUP_NOT_FOUND',
  404,
  (id: string, home: string) =>
    `backup id ${JSON.stringify(excerpt(id))} does not exist: metadata not found: ${excerpt(home)}`,
);

export const BackupInProgressError = defineError('STRATA_BACKUP_IN_PROGRESS', 422, (kind: string, id: string) =>
  kind === 'restore' ? `restoration ${excerpt(id)} already in progress` : `backup ${excerpt(id)} already in progress`,
);

export const BackupAccessError = defineError(
  'STRATA_BACKUP_ACCESS_FAILED',
  500,
  (reason: string) => `init uploader: ${reason}`,
);

/** Weaviate's message for restoring a backup that did not succeed. */
export const BackupNotRestorableError = defineError(
  'STRATA_BACKUP_NOT_RESTORABLE',
  422,
  (id: string, status: string) => `invalid backup in scheduler ${excerpt(id)} status: ${status}`,
);

export const BackupAlreadySucceededError = defineError(
  'STRATA_BACKUP_ALREADY_SUCCEEDED',
  422,
  (kind: 'backup' | 'restore', id: string) => `${kind} ${JSON.stringify(excerpt(id))} already succeeded`,
);

export const RestoreFinalizingError = defineError(
  'STRATA_RESTORE_FINALIZING',
  422,
  (id: string) => `restore ${JSON.stringify(excerpt(id))} is applying schema changes and cannot be cancelled`,
);

export const BackupCopySourceStateError = defineError(
  'STRATA_BACKUP_COPY_NOT_FINISHED',
  422,
  (id: string, from: string, status: string, error: string) =>
    `backup ${JSON.stringify(excerpt(id))} in ${from} is ${status}${error ? ` (${excerpt(error)})` : ''}: only a finished (SUCCESS) backup can be copied`,
);

export const OperationStoreFileError = defineError(
  'STRATA_BACKUP_OPERATIONS_FILE',
  500,
  (file: string, reason: string) =>
    `cannot read the backup operations file ${file}: ${reason}. Move it aside to start without the operations it ` +
    'records (each then answers as its provider last recorded it).',
);

export const BackupCorruptError = defineError(
  'STRATA_BACKUP_CORRUPT',
  422,
  (what: string, problem: string) => `corrupted backup file: ${excerpt(what)}: ${problem}`,
);

export const BackupVersionError = defineError(
  'STRATA_BACKUP_VERSION',
  422,
  (found: string, supported: string) =>
    `unable to restore backup as it was produced by a higher version: ${found} > ${supported}; upgrade @strata/core to restore it`,
);

export const BackupLocationError = defineError(
  'STRATA_BACKUP_LOCATION',
  422,
  (location: string) =>
    `backups cannot live at ${quoted(location)}: it is inside the node's data path (PERSISTENCE_DATA_PATH), or ` +
    `holds it. Choose a directory outside the data path (config.Path, or the module's BACKUP_*_PATH).`,
);

export const BackupCopyTargetError = defineError(
  'STRATA_BACKUP_COPY_TARGET',
  422,
  (id: string, home: string, hint: string) =>
    `cannot copy backup ${JSON.stringify(excerpt(id))} to ${excerpt(home)}: ${hint}`,
);

export const BackupCopyVerifyError = defineError(
  'STRATA_BACKUP_COPY_VERIFY',
  502,
  (what: string, problem: string) =>
    `copied ${what}, but it reads back wrong: ${problem}; the object was deleted from the target, run the copy again`,
);

export const RestoreConflictError = defineError(
  'STRATA_RESTORE_CLASS_EXISTS',
  422,
  (classes: readonly string[]) =>
    `cannot restore class${classes.length === 1 ? '' : 'es'} ${classes.map((name) => excerpt(name)).join(', ')}: already ${classes.length === 1 ? 'exists' : 'exist'} on this ` +
    `node; delete ${classes.length === 1 ? 'it' : 'them'} first (DELETE /v1/schema/<class>) or leave ${classes.length === 1 ? 'it' : 'them'} out with 'exclude'`,
);

export const RestoreNodeError = defineError(
  'STRATA_RESTORE_NODE_MISMATCH',
  422,
  (backupNode: string, thisNode: string) =>
    `the backup holds node "${excerpt(backupNode)}", but this node is "${thisNode}": restore with ` +
    `"node_mapping": {"${excerpt(backupNode)}": "${thisNode}"}, or start this node with CLUSTER_HOSTNAME=${excerpt(backupNode)}`,
);

/** A `node_mapping` that cannot be applied: a key that is no node of the backup, two nodes onto one. */
export const RestoreMappingError = defineError(
  'STRATA_RESTORE_NODE_MAPPING',
  422,
  (node: string, problem: string) => `node_mapping: node ${JSON.stringify(excerpt(node))} ${problem}`,
);

/** A node of the backup, after `node_mapping`, that is no live member of the cluster restoring it. */
export const RestoreNodeNotLiveError = defineError(
  'STRATA_RESTORE_NODE_NOT_LIVE',
  422,
  (backupNode: string, target: string, live: readonly string[]) =>
    `the backup holds node "${excerpt(backupNode)}",` +
    (backupNode === target ? '' : ` mapped to "${excerpt(target)}",`) +
    ` but no live member of this cluster is named so (live: ${[...live]
      .sort()
      .map((n) => excerpt(n))
      .join(', ')}): start ` +
    `that node, or restore with "node_mapping": {"${excerpt(backupNode)}": "<a live node>"}`,
);

export const RestoreSpaceError = defineError(
  'STRATA_RESTORE_NO_SPACE',
  422,
  (needed: number, free: number) =>
    `the classes to restore hold ${needed} bytes, but the data path's filesystem has ${free} bytes free: ` +
    'free some space (or restore fewer classes with include/exclude), then try again',
);

// ---------------------------------------------------------------------------------------------
// HTTP API (core/src/http): answered in the shape of Weaviate's go-swagger layer, {"code","message"}.
// ---------------------------------------------------------------------------------------------

/** A request body that is not JSON, or sets `__proto__` or `constructor.prototype`. */
export const InvalidJsonError = defineError(
  'STRATA_HTTP_INVALID_JSON',
  400,
  (reason: string) => `parsing body body from "" failed, because ${reason}`,
);

/** A request body holding a value larger than one value may be (an object, an array, a string). */
export const BodyValueTooLargeError = defineError(
  'STRATA_HTTP_VALUE_TOO_LARGE',
  413,
  (problem: string, position: number) =>
    `the body holds ${problem} (starting at byte ${position}), more than one value may hold; send smaller objects`,
);

/** A request body nesting arrays and objects deeper than the limit. */
export const JsonTooDeepError = defineError(
  'STRATA_HTTP_JSON_TOO_DEEP',
  400,
  (limit: number, position: number) =>
    `parsing body body from "" failed, because arrays and objects are nested deeper than ${limit} levels ` +
    `(at byte ${position}); Strata accepts at most ${limit} levels, flatten the document`,
);

/** `GET /v1/nodes/{className}` of a class that does not exist. */
export const NodesClassNotFoundError = defineError(
  'STRATA_HTTP_NODES_CLASS_NOT_FOUND',
  404,
  (name: string) => `class ${excerpt(name)} not found`,
);

/** No credentials, while anonymous access is off. Weaviate's message. */
export const AnonymousAccessError = defineError(
  'STRATA_HTTP_ANONYMOUS_ACCESS',
  401,
  () => 'anonymous access not enabled. Please authenticate through one of the available methods: [api key]',
);

/** An `Authorization` header without the Bearer scheme. */
export const AuthSchemeError = defineError(
  'STRATA_HTTP_AUTH_SCHEME',
  401,
  () => 'the Authorization header must use the Bearer scheme: send "Authorization: Bearer <key>"',
);

/** A key that is not one of AUTHENTICATION_APIKEY_ALLOWED_KEYS. Weaviate's message. */
export const InvalidApiKeyError = defineError('STRATA_HTTP_INVALID_API_KEY', 401, () => 'invalid api key');

// Routes Weaviate's clients still call: the deprecated object paths without a class, 405 for a known
// path with a method it does not serve, and the subset of GraphQL that checks a restore.

/** A known path asked with a method it does not serve. go-swagger's message; its `Allow` header goes with it. */
export const MethodNotAllowedError = defineError(
  'STRATA_HTTP_METHOD_NOT_ALLOWED',
  405,
  (method: string, allowed: readonly string[]) =>
    `method ${excerpt(method)} is not allowed, but [${allowed.join(',')}] are`,
);

/** `PUT` or `PATCH /v1/objects/{id}` without `class` in the body: the deprecated path takes the class from there. */
export const DeprecatedPathClassMissingError = defineError(
  'STRATA_HTTP_DEPRECATED_PATH_CLASS_MISSING',
  422,
  (method: string) =>
    `${method} /v1/objects/{id} takes the object's class from the body, and the body has no "class": ` +
    `give "class", or use ${method} /v1/objects/{className}/{id}`,
);

/** `POST /v1/graphql` without a query, or with an empty one. Weaviate's message. */
export const GraphqlQueryEmptyError = defineError(
  'STRATA_HTTP_GRAPHQL_QUERY_EMPTY',
  422,
  () => 'query cannot be empty',
);

/** `POST /v1/graphql` while there is no class: the GraphQL schema is made of the classes. Weaviate's message. */
export const GraphqlNoSchemaError = defineError(
  'STRATA_HTTP_GRAPHQL_NO_SCHEMA',
  422,
  () => 'no graphql provider present, this is most likely because no schema is present. Import a schema first!',
);

/** A GraphQL selection set naming the same field (or alias) twice. */
export const GraphqlDuplicateFieldError = defineError(
  'STRATA_HTTP_GRAPHQL_DUPLICATE_FIELD',
  422,
  (name: string) =>
    `the field "${excerpt(name)}" is selected twice in one selection set; select it once, or give each an alias of its own`,
);

/** `POST /v1/graphql` whose `variables` is not a JSON object. Weaviate's message, with a JSON type name. */
export const GraphqlVariablesError = defineError(
  'STRATA_HTTP_GRAPHQL_VARIABLES',
  422,
  (type: string) => `variables must be a JSON object, got ${type}`,
);

/** A GraphQL query past one of Strata's bounds on its size (characters, tokens) or nesting. */
export const GraphqlQueryTooLargeError = defineError(
  'STRATA_HTTP_GRAPHQL_QUERY_TOO_LARGE',
  422,
  (what: string, limit: number) =>
    `the query has more than ${limit} ${what}, the most Strata accepts in one query; send a smaller query`,
);

/** A GraphQL query using what Weaviate serves and Strata does not (where, nearVector, groupBy, Explore, ...). */
export const GraphqlUnsupportedError = defineError(
  'STRATA_HTTP_GRAPHQL_UNSUPPORTED',
  422,
  (what: string) =>
    `${what} is not supported by Strata, which serves only Get { <Class>(limit, offset, after) ` +
    `{ <properties> _additional { id vector creationTimeUnix lastUpdateTimeUnix } } } and ` +
    `Aggregate { <Class> { meta { count } } }`,
);

/** A GraphQL argument with a value Strata cannot use (a negative offset, an `after` that is no UUID, ...). */
export const GraphqlArgumentError = defineError(
  'STRATA_HTTP_GRAPHQL_ARGUMENT',
  422,
  (argument: string, value: unknown, expected: string) => `invalid '${argument}' ${quoted(value)}: ${expected}`,
);

/** The Get fields of one GraphQL query ask for more objects in all than one query may answer. */
export const GraphqlQueryResultsError = defineError(
  'STRATA_HTTP_GRAPHQL_QUERY_RESULTS',
  422,
  (asked: number, limit: number) =>
    `the Get fields of this query ask for ${asked} objects in all (offset + limit of each), more than the ` +
    `${limit} one query may answer: ask for the classes in separate queries`,
);

/** `Aggregate { <Class> { meta { count } } }` while a node holding shards of the class did not answer. */
export const GraphqlCountIncompleteError = defineError(
  'STRATA_HTTP_GRAPHQL_COUNT_INCOMPLETE',
  503,
  (className: string, counted: number, shards: number) =>
    `cannot count the objects of class ${excerpt(className)}: only ${counted} of its ${shards} shards answered ` +
    `(GET /v1/nodes shows which node is not HEALTHY); try again once every node is`,
);

// ---------------------------------------------------------------------------------------------
// Command line.
// ---------------------------------------------------------------------------------------------

export const CliRemoteError = defineError(
  'STRATA_CLI_REMOTE',
  502,
  (url: string, problem: string) => `${url}: ${problem}`,
);

export const CliOperationFailedError = defineError(
  'STRATA_CLI_OPERATION_FAILED',
  500,
  (what: string, status: string, error: string) => `${what} ended ${status}${error === '' ? '' : `: ${error}`}`,
);

export const CliConformanceMissingError = defineError(
  'STRATA_CLI_CONFORMANCE_MISSING',
  400,
  (dir: string) =>
    `strata conformance runs @strata/conformance, which is not installed in ${dir}: ` +
    'npm install --save-dev @strata/conformance, then run it again',
);

export const CliUsageError = defineError(
  'STRATA_CLI_USAGE',
  400,
  (problem: string, help: string) => `${problem}\nRun \`${help}\` for usage.`,
);

// ---------------------------------------------------------------------------------------------
// Cluster: internal API
// The calls nodes make to each other (core/src/cluster), on CLUSTER_DATA_BIND_PORT.
// ---------------------------------------------------------------------------------------------

/** A request to the internal API without the cluster's credentials. Names no expected value. */
export const InternalAuthError = defineError(
  'STRATA_CLUSTER_INTERNAL_UNAUTHORIZED',
  401,
  () =>
    'the internal API needs the cluster credentials (CLUSTER_BASIC_AUTH_USERNAME / CLUSTER_BASIC_AUTH_PASSWORD); ' +
    'every node of a cluster must have the same',
);

/**
 * A peer refused this node's cluster credentials (it answered 401). 500, not 401: the node relays the
 * failure to a public client, whose own credentials were fine.
 */
export const PeerCredentialsError = defineError(
  'STRATA_CLUSTER_CREDENTIALS_MISMATCH',
  500,
  (node: string) =>
    `node ${JSON.stringify(excerpt(node))} refused this node's cluster credentials: CLUSTER_BASIC_AUTH_USERNAME ` +
    'and CLUSTER_BASIC_AUTH_PASSWORD differ between the nodes; set the same on every node of the cluster',
);

/**
 * A peer that could not be reached or did not answer as the internal API does: refused, reset, DNS,
 * timeout, or a reply that is not the contract's JSON. 500, as Weaviate answers for an unreachable
 * shard owner.
 */
const NodeUnavailable = defineError(
  'STRATA_CLUSTER_NODE_UNAVAILABLE',
  500,
  (node: string, reason: string, shard?: string, className?: string) => {
    const owned = [
      shard === undefined ? undefined : `shard ${JSON.stringify(excerpt(shard))}`,
      className === undefined ? undefined : `class ${JSON.stringify(excerpt(className))}`,
    ].filter((part) => part !== undefined);
    return (
      `node ${JSON.stringify(excerpt(node))}${owned.length === 0 ? '' : ` (owner of ${owned.join(' of ')})`} ` +
      `is unavailable: ${excerpt(reason)}; the request can be retried once that node is back`
    );
  },
);

/** See {@link NodeUnavailable}: with the node and the reason as fields, so a batch can name each object's shard. */
export class NodeUnavailableError extends NodeUnavailable {
  readonly node: string;
  readonly reason: string;

  constructor(node: string, reason: string, shard?: string, className?: string) {
    super(node, reason, shard, className);
    this.node = node;
    this.reason = reason;
  }
}
revivedAs(NodeUnavailableError);

/** A path of the internal API that names no call: the nodes run versions of Strata with other calls. */
export const PeerCallUnknownError = defineError(
  'STRATA_CLUSTER_UNKNOWN_CALL',
  404,
  (method: string, path: string) =>
    `the internal API has no call ${method} ${excerpt(path)}; every node of a cluster must run a version of ` +
    'Strata with the same internal API',
);

/** An internal call whose body is not a JSON object of arguments, or whose arguments have the wrong shape. */
export const PeerCallArgsError = defineError(
  'STRATA_CLUSTER_INVALID_ARGS',
  400,
  (call: string, problem: string) =>
    `internal call ${call}: ${problem}; every node of a cluster must run a version of Strata with the same internal API`,
);

/** An internal call whose body is larger than a body may be. */
export const PeerCallTooLargeError = defineError(
  'STRATA_CLUSTER_BODY_TOO_LARGE',
  413,
  (call: string, limit: number) =>
    `internal call ${excerpt(call)}: the body is larger than the limit of ${limit} bytes; send fewer objects per call`,
);

// ---------------------------------------------------------------------------------------------
// Cluster (core/src/cluster): membership, schema and placement kept in etcd.
// ---------------------------------------------------------------------------------------------

/** etcd answered at none of the endpoints: at start, on joining, or on a read the node cannot serve without it. */
export const EtcdUnreachableError = defineError(
  'STRATA_CLUSTER_ETCD_UNREACHABLE',
  500,
  (endpoints: readonly string[], reason: string) =>
    `etcd is unreachable at ${endpoints.length === 0 ? '(no endpoints)' : endpoints.map((e) => excerpt(e)).join(', ')}: ` +
    `${excerpt(reason)}; start etcd there, or set CLUSTER_ETCD_ENDPOINTS to the client URLs of a running etcd ` +
    '(comma-separated, such as http://127.0.0.1:2379)',
);

/** Another live process holds the member key of this node's name (CLUSTER_HOSTNAME), with another data path. */
export const NodeNameLiveError = defineError(
  'STRATA_CLUSTER_NODE_NAME_LIVE',
  500,
  (name: string, internalUrl: string) =>
    `a node named ${excerpt(name)} is already live in the cluster (its internal API at ${excerpt(internalUrl)}); ` +
    'choose another CLUSTER_HOSTNAME or stop that node',
);

/** A schema change while etcd does not answer: refused within seconds rather than left hanging. */
export const ClusterUnavailableError = defineError(
  'STRATA_CLUSTER_UNAVAILABLE',
  503,
  (reason: string) => `schema changes need etcd, which is unreachable: ${excerpt(reason)}; retry when etcd is back`,
);

/** A value under `strata/` that is not what its key holds (not JSON, or not the record's shape): skipped. */
export const ClusterRecordInvalidError = defineError(
  'STRATA_CLUSTER_RECORD_INVALID',
  500,
  (key: string, problem: string) =>
    `etcd key ${JSON.stringify(excerpt(key))} holds no valid record (${excerpt(problem)}); it is skipped: ` +
    'rewrite or delete it with etcdctl',
);

// ---------------------------------------------------------------------------------------------
// Cluster: this node's part (core/src/cluster). Cluster-wide state lives in etcd.
// ---------------------------------------------------------------------------------------------

export const SchemaNotAppliedError = defineError(
  'STRATA_CLUSTER_SCHEMA_NOT_APPLIED',
  500,
  (className: string, ms: number) =>
    `the change of class ${excerpt(className)} is recorded in etcd, but this node has not applied it within ` +
    `${ms / 1000} s; it will once it sees it: check the node's log, and GET /v1/schema again`,
);

export const ClusterFileError = defineError(
  'STRATA_CLUSTER_FILE',
  500,
  (file: string, problem: string) =>
    `${file} is damaged (${problem}); it says which cluster this data path belongs to: restore it, or remove it ` +
    'to join the cluster of CLUSTER_ETCD_ENDPOINTS with this data path',
);

export const ClusterIdentityMismatchError = defineError(
  'STRATA_CLUSTER_IDENTITY_MISMATCH',
  500,
  (dataPath: string, recorded: string, found: string) =>
    `the data path ${dataPath} belongs to cluster ${recorded}, but etcd at CLUSTER_ETCD_ENDPOINTS holds cluster ` +
    `${found} (a new or wiped etcd, or the wrong endpoints?). Nothing was changed. Point CLUSTER_ETCD_ENDPOINTS ` +
    `at the cluster's etcd; to join this one instead, remove ${dataPath}/cluster.json and its classes join it`,
);

export const ClusterSchemaConflictError = defineError(
  'STRATA_CLUSTER_SCHEMA_CONFLICT',
  500,
  (className: string, dataPath: string) =>
    `class ${excerpt(className)} of the data path ${dataPath} exists in the cluster already: a data path joining ` +
    'a cluster brings its classes with it, and their names must be new there. Delete one of them, or use ' +
    'another data path',
);

/** Weaviate's refusal and message (errLocalBackendDBRO's text in usecases/backup). */
export const LocalBackendOnClusterError = defineError(
  'STRATA_CLUSTER_LOCAL_BACKEND',
  422,
  () => 'local filesystem backend is not viable for backing up a node cluster, try s3 or gcs',
);

// ---------------------------------------------------------------------------------------------
// Cluster: participants
// A coordinator's calls to the backup participants on other nodes (core/src/cluster/remote-participant.ts).
// ---------------------------------------------------------------------------------------------

/**
 * A participant call about an operation the node does not hold: never prepared there, dropped by an
 * abort, finished long ago, or lost when the node restarted. Answered at once, so a coordinator
 * polling for its events ends the node's part rather than waiting on it.
 */
export const ParticipantOperationUnknownError = defineError(
  'STRATA_CLUSTER_PARTICIPANT_UNKNOWN_OPERATION',
  404,
  (node: string, kind: string, id: string) =>
    `node ${JSON.stringify(excerpt(node))} holds no ${kind} ${JSON.stringify(excerpt(id))}: it was not prepared ` +
    'there, was aborted, finished long ago, or the node restarted since; start the operation again',
);

// ---------------------------------------------------------------------------------------------
// Cluster: operations (core/src/cluster/etcd-operation-store.ts): backups and restores in etcd.
// ---------------------------------------------------------------------------------------------

/**
 * A write to an operation by a node that no longer coordinates it: another node holds its claim, or
 * this node's lease lapsed (a stall past its TTL, etcd lost for longer). Nothing was written. 409, not
 * 500: the write conflicts with what etcd holds (as a locked data path does), it is not a fault of the
 * node, and a client that asks again is answered with the successor's state.
 */
export const OperationFencedError = defineError(
  'STRATA_CLUSTER_OPERATION_FENCED',
  409,
  (kind: string, id: string, node: string, holder: string | undefined) =>
    `${kind} ${excerpt(id)} ` +
    (holder === undefined
      ? `is coordinated by node ${excerpt(node)} no more: its lease lapsed`
      : holder === node
        ? `is held under another lease of node ${excerpt(node)} (an earlier process of it, or a lease it lost)`
        : `is coordinated by node ${excerpt(holder)} now, not by node ${excerpt(node)}`) +
    '; this write to it was refused, so the outcome of the node that coordinates it stands',
);

/**
 * A cancel received by a node that does not coordinate the operation, whose coordinator neither
 * answered nor was replaced by another node in time. 503: asking again shortly reaches the node that
 * adopts it.
 */
export const CancelUnreachableError = defineError(
  'STRATA_CLUSTER_CANCEL_UNREACHABLE',
  503,
  (kind: string, id: string, coordinator: string) =>
    `cannot cancel ${kind} ${excerpt(id)} now: its coordinator, node ${excerpt(coordinator)}, does not answer and ` +
    'no other node has taken it over yet; try again in a few seconds',
);
