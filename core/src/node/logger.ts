import { pino } from 'pino';

export type Logger = pino.Logger;

/**
 * The node's structured logger (pino): one JSON object per line on stdout, or on `destination`.
 * Authorization headers are redacted wherever they might appear; API keys are never logged.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    redact: { paths: ['authorization', '*.authorization', '*.headers.authorization'], censor: '***' },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}
