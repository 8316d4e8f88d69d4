import { pino } from 'pino';
import { SECRET_MASK } from '../modules/read-config.js';
import type { ConfigSpec } from '../provider/config.js';
import type { ModuleLogger } from '../provider/module-definition.js';
import { nodeVariables } from './config.js';

export type Logger = pino.Logger;

/** Where an Authorization header can appear in a log line: on its own, or in a request's headers. */
const AUTHORIZATION_PATHS = ['authorization', '*.authorization', '*.headers.authorization'];

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

/** The node's own redaction: Authorization headers, and its secret variables (the API keys). */
const NODE_PATHS = [...AUTHORIZATION_PATHS, ...secretPaths(nodeVariables)];

/** Redacts with `***`, but leaves an unset value out, so that a line never claims a secret is set. */
function redaction(paths: readonly string[]): pino.redactOptions {
  return { paths: [...paths], censor: (value: unknown) => (value === undefined ? undefined : SECRET_MASK) };
}

/**
 * The node's structured logger (pino): one JSON object per line on stdout, or on `destination`.
 * Authorization headers and API keys are redacted wherever they might appear.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = { level, redact: redaction(NODE_PATHS) };
  return destination === undefined ? pino(options) : pino(options, destination);
}

/** A pino logger, as opposed to any other logger with the four methods a module uses. */
function isPino(logger: ModuleLogger): logger is Logger {
  return typeof (logger as Partial<Logger>).child === 'function';
}

/**
 * The logger module `name` receives: every line carries `module: name`, and every message has each
 * secret value replaced by `***` (`redactText`). When `base` is a pino logger, the module logs
 * through a child of it whose redaction also covers the module's secret variables by name
 * ({@link secretPaths}), since pino fixes the paths of a logger when it is created and modules load
 * after the node's logger exists. Another logger receives the fields as the module gave them.
 */
export function moduleLogger(
  base: ModuleLogger,
  name: string,
  spec: ConfigSpec,
  redactText: (text: string) => string,
): ModuleLogger {
  const target: ModuleLogger = isPino(base)
    ? base.child({ module: name }, { redact: redaction([...NODE_PATHS, ...secretPaths(spec)]) })
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
