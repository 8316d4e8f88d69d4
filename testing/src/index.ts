/**
 * @strata/testing: tooling Strata's own tests and benchmarks share. Real storage servers started on
 * free ports (s3rver for S3, firebase-tools' Cloud Storage emulator for GCS, azurite for Azure Blob Storage),
 * a real etcd for the cluster, a fault-injecting proxy to put between a client and a server, helpers to
 * load a provider and run a node, and to check that a provider's secrets show nowhere.
 *
 * @packageDocumentation
 */

export { type Azurite, type AzuriteOptions, startAzurite } from './azurite.js';
export {
  type ClusterNode,
  type ClusterOptions,
  type StrataCluster,
  startCluster,
} from './cluster.js';
export { definedErrorCodes, documentedErrorCodes } from './error-docs.js';
export { type Etcd, type EtcdOptions, startEtcd } from './etcd.js';
export { type Fault, type FaultPlan, type FaultProxy, type ProxiedRequest, startFaultProxy } from './fault-proxy.js';
export { type GcsEmulator, type GcsEmulatorOptions, startGcsEmulator } from './gcs-emulator.js';
export { type LogLine, loadModule, rejection } from './module.js';
export {
  backupDropRestore,
  jsonRequest,
  type Reply,
  readAll,
  type SeedOptions,
  seedClass,
  startTestNode,
  type TestNode,
  type TestNodeOptions,
  waitForStatus,
} from './node.js';
export { waitForLine } from './process.js';
export { type S3Server, type S3ServerOptions, startS3Server } from './s3-server.js';
export { API_KEY_MARKER, assertNoMarker, type SecretsRun, type Shown, showSecrets, startupFailure } from './secrets.js';
