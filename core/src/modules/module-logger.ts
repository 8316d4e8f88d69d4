import type { pino } from 'pino';
import type { ConfigSpec } from '../provider/config.js';
import type { ModuleLogger } from '../provider/module-definition.js';
import { SECRET_MASK } from './read-config.js';

/** Where an Authorization header can appear in a log line: on its own, or in a request's headers. */
export const AUTHORIZATION_PATHS = ['authorization', '*.authorization', '*.headers.authorization'];

/**
 * The redaction paths of every secret variable in `spec`: its key (as the module's code reads it)
 * and its variable names, at the top of a log line's fields and one or two objects down, where a
 * module's `{ config }` or `{ client: { credentials } }` puts them.
 */
export function secretPaths(spec: ConfigSpec): string[] {
  const names = Object.entries(spec).flatMap(([key, variable]) =>
    variable.secret === true ? [key, variable.name, ...(variable.fallbacks ?? [])] : [],
  );
  return [...new Set(names)].flatMap((name) => [name, `*.${name}`, `*.*.${name}`]);
}

/** Redacts with `***`, but leaves an unset value out, so that a line never claims a secret is set. */
export function redaction(paths: readonly string[]): pino.redactOptions {
  return { paths: [...paths], censor: (value: unknown) => (value === undefined ? undefined : SECRET_MASK) };
}

/** A pino logger, as opposed to any other logger with the four methods a module uses. */
function isPino(logger: ModuleLogger): logger is pino.Logger {
  return typeof (logger as Partial<pino.Logger>).child === 'function';
}

/**
 * The logger module `name` receives: every line carries `module: name`, and every message has each
 * secret value replaced by `***` (`redactText`). When `base` is a pino logger, the module logs
 * through a child of it whose redaction covers the module's secret variables by name
 * ({@link secretPaths}) and Authorization headers, since pino fixes the paths of a logger when it is
 * created, and a child's paths replace its parent's. Another logger receives the fields as given.
 */
export function moduleLogger(
  base: ModuleLogger,
  name: string,
  spec: ConfigSpec,
  redactText: (text: string) => string,
): ModuleLogger {
  const target: ModuleLogger = isPino(base)
    ? base.child({ module: name }, { redact: redaction([...AUTHORIZATION_PATHS, ...secretPaths(spec)]) })
    : {
        debug: (fields, message) => base.debug({ module: name, ...fields }, message),
        info: (fields, message) => base.info({ module: name, ...fields }, message),
        warn: (fields, message) => base.warn({ module: name, ...fields }, message),
        error: (fields, message) => base.error({ module: name, ...fields }, message),
      };
  const scrub = (message: string | undefined) => (message === undefined ? undefined : redactText(message));
  return {
    debug: (fields, message) => target.debug(fields, scrub(message)),
    info: (fields, message) => target.info(fields, scrub(message)),
    warn: (fields, message) => target.warn(fields, scrub(message)),
    error: (fields, message) => target.error(fields, scrub(message)),
  };
}
