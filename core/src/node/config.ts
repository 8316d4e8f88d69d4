import { resolve } from 'node:path';
import { NODE_NAME } from '../db/names.js';
import {
  ApiKeysMissingError,
  ApiKeyUsersMismatchError,
  InvalidNodeNameError,
  NodeConfigInvalidError,
  type StrataError,
} from '../errors.js';
import { type Environment, readModuleConfig } from '../modules/read-config.js';
import { type ConfigSpec, type ConfigValues, parsers } from '../provider/config.js';

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** The node's own environment variables (module variables are declared by each module). */
export const nodeVariables = {
  dataPath: {
    name: 'PERSISTENCE_DATA_PATH',
    default: './data',
    description: 'Where the node keeps its schema and class data; relative to the working directory.',
  },
  hostname: {
    name: 'CLUSTER_HOSTNAME',
    default: 'node1',
    parse: (raw: string) => {
      if (!NODE_NAME.test(raw)) throw new InvalidNodeNameError();
      return raw;
    },
    description: "The node's name; shards record the node that owns them, and backups group files by it.",
  },
  apiKeyEnabled: {
    name: 'AUTHENTICATION_APIKEY_ENABLED',
    default: false,
    parse: parsers.boolean,
    description: 'Require an API key (Authorization: Bearer <key>) on every endpoint but the probes.',
  },
  apiKeys: {
    name: 'AUTHENTICATION_APIKEY_ALLOWED_KEYS',
    secret: true,
    parse: parsers.list,
    description: 'The accepted API keys, comma-separated.',
  },
  apiKeyUsers: {
    name: 'AUTHENTICATION_APIKEY_USERS',
    parse: parsers.list,
    description: 'The user of each key, comma-separated: one for all keys, or one per key.',
  },
  anonymousAccess: {
    name: 'AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED',
    parse: parsers.boolean,
    description: 'Let requests without a key through; defaults to false when API keys are enabled, true otherwise.',
  },
  chunkTargetSize: {
    name: 'BACKUP_CHUNK_TARGET_SIZE',
    default: 16 * 1024 * 1024,
    parse: parsers.byteSize,
    description: 'Backups group files into chunks of about this size (10MiB, 1GB, ...); bigger files travel alone.',
  },
  logLevel: {
    name: 'LOG_LEVEL',
    default: 'info',
    parse: parsers.oneOf(LOG_LEVELS),
    description: `Log level: ${LOG_LEVELS.join(', ')}.`,
  },
} as const satisfies ConfigSpec;

/** The node's configuration, validated. */
export interface NodeConfig {
  readonly dataPath: string;
  readonly hostname: string;
  readonly apiKeys: readonly string[];
  readonly anonymousAccess: boolean;
  readonly chunkTargetBytes: number;
  readonly logLevel: (typeof LOG_LEVELS)[number];
}

/**
 * Reads the node's variables from `env`, relative paths against `cwd`. Every problem is reported
 * together, and API keys never appear in a message.
 * @throws NodeConfigInvalidError
 */
export function readNodeConfig(env: Environment, cwd = process.cwd()): NodeConfig {
  const { config, problems } = readModuleConfig('strata', nodeVariables, env);
  const values = config.values as ConfigValues<typeof nodeVariables>;
  const all: StrataError[] = [...problems];
  const keys = values.apiKeys ?? [];
  if (values.apiKeyEnabled && keys.length === 0) {
    all.push(new ApiKeysMissingError());
  }
  const users = values.apiKeyUsers ?? [];
  if (values.apiKeyEnabled && users.length > 1 && users.length !== keys.length) {
    all.push(new ApiKeyUsersMismatchError(users.length, keys.length));
  }
  if (all.length > 0) throw new NodeConfigInvalidError(all);
  return {
    dataPath: resolve(cwd, values.dataPath),
    hostname: values.hostname,
    apiKeys: values.apiKeyEnabled ? keys : [],
    anonymousAccess: values.anonymousAccess ?? !values.apiKeyEnabled,
    chunkTargetBytes: values.chunkTargetSize,
    logLevel: values.logLevel,
  };
}
