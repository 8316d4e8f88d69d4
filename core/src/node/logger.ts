import { pino } from 'pino';
import { AUTHORIZATION_PATHS, redaction, secretPaths } from '../modules/module-logger.js';
import { nodeVariables } from './config.js';

export type Logger = pino.Logger;

/** The node's own redaction: Authorization headers, and its secret variables (the API keys). */
const NODE_PATHS = [...AUTHORIZATION_PATHS, ...secretPaths(nodeVariables)];

/**
 * The node's structured logger (pino): one JSON object per line on stdout, or on `destination`.
 * Authorization headers and API keys are redacted wherever they might appear; modules log through
 * children that redact their own secrets (modules/module-logger.ts).
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = { level, redact: redaction(NODE_PATHS) };
  return destination === undefined ? pino(options) : pino(options, destination);
}
