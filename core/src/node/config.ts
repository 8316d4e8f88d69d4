import { resolve } from 'node:path';
import type { ClusterConfig } from '../cluster/index.js';
import { NODE_NAME } from '../db/names.js';
import {
  ApiKeysMissingError,
  ApiKeyUsersMismatchError,
  ClusterAuthIncompleteError,
  InvalidAdvertiseAddressError,
  InvalidEtcdEndpointError,
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
  etcdEndpoints: {
    name: 'CLUSTER_ETCD_ENDPOINTS',
    parse: etcdEndpoints,
    description:
      'The etcd client URLs (http://host:port), comma-separated. Set, the node joins the cluster those etcd ' +
      'members hold; unset, it is a single node and uses no etcd.',
  },
  dataBindPort: {
    name: 'CLUSTER_DATA_BIND_PORT',
    default: 7947,
    parse: parsers.integer({ min: 0, max: 65_535 }),
    description: 'The port of the internal node-to-node API (cluster mode); 0 picks a free one.',
  },
  advertiseAddr: {
    name: 'CLUSTER_ADVERTISE_ADDR',
    parse: advertiseAddress,
    description:
      'The address other nodes reach the internal API at (cluster mode); defaults to the address the node listens on.',
  },
  basicAuthUsername: {
    name: 'CLUSTER_BASIC_AUTH_USERNAME',
    description: 'With CLUSTER_BASIC_AUTH_PASSWORD: the credentials every internal API call must carry (cluster mode).',
  },
  basicAuthPassword: {
    name: 'CLUSTER_BASIC_AUTH_PASSWORD',
    secret: true,
    description: 'The password of CLUSTER_BASIC_AUTH_USERNAME; the same on every node.',
  },
  leaseTtlSeconds: {
    name: 'CLUSTER_LEASE_TTL_SECONDS',
    default: 10,
    parse: parsers.integer({ min: 1, max: 300 }),
    description:
      "How long a node's membership outlives its last keepalive to etcd: a node that dies is known dead after this.",
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
  /** Undefined: a single node, no etcd. */
  readonly cluster: ClusterConfig | undefined;
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
  const { basicAuthUsername: username, basicAuthPassword: password } = values;
  if ((username === undefined) !== (password === undefined)) all.push(new ClusterAuthIncompleteError());
  if (all.length > 0) throw new NodeConfigInvalidError(all);
  return {
    dataPath: resolve(cwd, values.dataPath),
    hostname: values.hostname,
    apiKeys: values.apiKeyEnabled ? keys : [],
    anonymousAccess: values.anonymousAccess ?? !values.apiKeyEnabled,
    chunkTargetBytes: values.chunkTargetSize,
    logLevel: values.logLevel,
    cluster:
      values.etcdEndpoints === undefined
        ? undefined
        : {
            etcdEndpoints: values.etcdEndpoints,
            dataBindPort: values.dataBindPort,
            advertiseAddr: values.advertiseAddr,
            auth: username === undefined || password === undefined ? undefined : { username, password },
            leaseTtlSeconds: values.leaseTtlSeconds,
          },
  };
}

/** CLUSTER_ETCD_ENDPOINTS: one or more `http(s)://host:port` URLs, nothing after the port. */
function etcdEndpoints(raw: string): string[] {
  const endpoints = parsers.list(raw);
  for (const endpoint of endpoints) {
    let url: URL | undefined;
    try {
      url = new URL(endpoint);
    } catch {
      // reported below
    }
    const bare = url !== undefined && (url.pathname === '/' || url.pathname === '') && url.search === '';
    if (url === undefined || !/^https?:$/.test(url.protocol) || url.port === '' || !bare || url.username !== '') {
      throw new InvalidEtcdEndpointError(endpoint);
    }
  }
  return endpoints.map((endpoint) => endpoint.replace(/\/$/, ''));
}

/** CLUSTER_ADVERTISE_ADDR: a host name or an IP address, no scheme or port. */
function advertiseAddress(raw: string): string {
  const host = raw.trim();
  if (!/^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[?[0-9A-Fa-f:.]+\]?)$/.test(host)) {
    throw new InvalidAdvertiseAddressError();
  }
  return host;
}
