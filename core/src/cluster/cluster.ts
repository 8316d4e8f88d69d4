/**
 * A node's part in a cluster, put together: the etcd connection, the internal API serving this node's
 * shards, its membership, the schema it follows, and the data API that routes requests to owners.
 * Started before the public API listens, stopped after it closed.
 */
import { hostname } from 'node:os';
import type { Etcd3 } from 'etcd3';
import type { FastifyBaseLogger } from 'fastify';
import type { BackupCluster } from '../backup/backup-cluster.js';
import type { Participant } from '../backup/participant.js';
import type { ClassRecord, Database, NodeStatus } from '../db/index.js';
import { ClassExistsError, ClusterIdentityMismatchError, ClusterSchemaConflictError } from '../errors.js';
import { ClusterData } from './cluster-data.js';
import { newClusterIdentity, readClusterIdentity, writeClusterIdentity } from './cluster-file.js';
import { ClusterSchema } from './cluster-schema.js';
import type { CoordinatorCalls } from './coordinator-handlers.js';
import { connectEtcd } from './etcd-client.js';
import { EtcdOperationStore } from './etcd-operation-store.js';
import { type InternalApi, startInternalApi } from './internal-api.js';
import { localHandlers } from './local-handlers.js';
import { clusterId, Membership } from './membership.js';
import { NodeCalls } from './node-calls.js';
import { clusterNodeStatuses } from './node-statuses.js';
import { PeerClient } from './peer-client.js';
import { RemoteParticipant } from './remote-participant.js';
import { SchemaStore } from './schema-store.js';

/** Cluster mode's settings: present only when CLUSTER_ETCD_ENDPOINTS is set. */
export interface ClusterConfig {
  readonly etcdEndpoints: readonly string[];
  readonly dataBindPort: number;
  /** The host others call the internal API at; undefined: the address the node listens on. */
  readonly advertiseAddr: string | undefined;
  readonly auth: { readonly username: string; readonly password: string } | undefined;
  readonly leaseTtlSeconds: number;
}

/** What a node gives its cluster part. */
export interface ClusterOptions {
  readonly config: ClusterConfig;
  readonly nodeName: string;
  readonly db: Database;
  /**
   * This node's backup participant (the one its own backups run on), which the internal API serves to
   * coordinators on other nodes.
   */
  readonly participant: Participant;
  /** This node's backup coordinator, for the cancels other nodes forward to it. */
  readonly coordinator: CoordinatorCalls;
  /** The interface the node listens on; the internal API listens there too. */
  readonly host: string;
  readonly version: string;
  readonly logger: FastifyBaseLogger;
}

/** The address others call `host` at, when CLUSTER_ADVERTISE_ADDR does not say. */
function advertised(host: string): string {
  const any = host === '0.0.0.0' || host === '::' || host === '';
  const name = any ? hostname() : host;
  return name.includes(':') ? `[${name}]` : name;
}

export class Cluster {
  /** The REST API's data: every class and object of the cluster, from this node. */
  readonly data: ClusterData;
  /** What backups need of the cluster: the operation store in etcd, the other nodes' participants, ... */
  readonly backups: BackupCluster;
  readonly #client: Etcd3;
  readonly #api: InternalApi;
  readonly #membership: Membership;
  readonly #schema: ClusterSchema;
  readonly #calls: NodeCalls;
  #stopping: Promise<void> | undefined;

  private constructor(parts: {
    client: Etcd3;
    api: InternalApi;
    membership: Membership;
    schema: ClusterSchema;
    calls: NodeCalls;
    data: ClusterData;
    operations: EtcdOperationStore;
  }) {
    this.#client = parts.client;
    this.#api = parts.api;
    this.#membership = parts.membership;
    this.#schema = parts.schema;
    this.#calls = parts.calls;
    this.data = parts.data;
    const membership = parts.membership;
    const calls = parts.calls;
    this.backups = {
      store: parts.operations,
      liveNodes: () => [...new Set([membership.self.name, ...membership.members().map((m) => m.name)])],
      participant: (node) => new RemoteParticipant(node, calls),
      cancelOn: async (node, operation) => (await calls.call(node, 'coordinatorCancel', { operation })) ?? undefined,
      createClasses: (records) => this.createClasses(records),
    };
  }

  /**
   * Joins the cluster: connects to etcd, checks the data path belongs to this cluster, serves the
   * internal API, claims the node's name, and applies the cluster's schema.
   * @throws EtcdUnreachableError, ClusterIdentityMismatchError, NodeNameLiveError, ClusterSchemaConflictError
   */
  static async start(options: ClusterOptions): Promise<Cluster> {
    const { config, db, logger } = options;
    const client = await connectEtcd(config.etcdEndpoints);
    let api: InternalApi | undefined;
    let membership: Membership | undefined;
    try {
      const id = await clusterId(client);
      const recorded = await readClusterIdentity(db.dataPath);
      if (recorded !== undefined && recorded.clusterId !== id) {
        throw new ClusterIdentityMismatchError(db.dataPath, recorded.clusterId, id);
      }
      const identity = recorded ?? newClusterIdentity(id);
      const handlers = localHandlers(db, options.participant, options.coordinator);
      api = await startInternalApi({
        host: options.host,
        port: config.dataBindPort,
        handlers,
        ...(config.auth === undefined ? {} : { auth: config.auth }),
        logger,
      });
      const port = new URL(api.url).port;
      const internalUrl = `http://${config.advertiseAddr ?? advertised(options.host)}:${port}`;
      membership = await Membership.join(
        client,
        { name: options.nodeName, internalUrl, version: options.version },
        {
          ttlSeconds: config.leaseTtlSeconds,
          dataPathId: identity.dataPathId,
          onError: (error) => logger.warn({ err: error }, 'cluster membership'),
        },
      );
      const store = new SchemaStore(client, { onError: (error) => logger.warn({ err: error }, 'cluster schema') });
      // A single node's data path joining a cluster (once its name is its own): its classes become the cluster's.
      if (recorded === undefined) await seed(store, db);
      await writeClusterIdentity(db.dataPath, identity);
      const joined = membership;
      const calls = new NodeCalls(options.nodeName, handlers, new PeerClient({ auth: config.auth }), () =>
        joined.members(),
      );
      const schema = new ClusterSchema(db, store, joined, logger);
      await schema.start();
      logger.info({ internalUrl, clusterId: id }, `Strata internal API listening on ${api.url}`);
      const operations = new EtcdOperationStore(client, {
        node: options.nodeName,
        leaseId: () => joined.leaseId,
        onError: (error) => logger.warn({ err: error }, 'cluster operations'),
      });
      const data = new ClusterData(db, schema, calls);
      return new Cluster({ client, api, membership, schema, calls, data, operations });
    } catch (error) {
      await membership?.leave();
      await api?.close();
      client.close();
      throw error;
    }
  }

  /** False while etcd is unreachable: the node's readiness fails and schema changes are refused. */
  get healthy(): boolean {
    return this.#membership.healthy;
  }

  /** Every node of the cluster with its status and shards (of one class, or all). */
  nodeStatuses(className?: string): Promise<NodeStatus[]> {
    return clusterNodeStatuses(this.#membership, this.#calls, className);
  }

  /** Leaves the cluster (the node's membership goes at once) and closes the internal API and etcd. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      await this.#schema.stop();
      await this.#membership.leave();
      await this.#api.close();
      this.#client.close();
    })();
    return this.#stopping;
  }

  /**
   * Creates classes whose definitions and placement were decided elsewhere (a restore's, its shards held
   * on their nodes), all or none: recorded in etcd in one transaction up to 128 classes (more go in
   * turn, not atomically to watchers: SchemaStore.createMany). Answers once this node has applied every
   * class and every live peer has too (at most 2 s for the peers, as any schema change; a peer that does
   * not answer is not waited for). Each record is checked as a node will apply it before etcd sees it.
   * @throws ClassRecordInvalidError, ClassExistsError (nothing is created), TypeError when two records
   *   name one class, ClusterUnavailableError while etcd is unreachable, SchemaNotAppliedError when this
   *   node has not applied a class in time (it is in etcd all the same)
   */
  createClasses(records: readonly ClassRecord[]): Promise<void> {
    return this.data.createClasses(records);
  }
}

/** Records each of `db`'s classes in etcd, as they are placed on this node. */
async function seed(store: SchemaStore, db: Database): Promise<void> {
  for (const record of db.classRecords()) {
    try {
      await store.create(record);
    } catch (error) {
      if (ClassExistsError.is(error)) throw new ClusterSchemaConflictError(record.definition.class, db.dataPath);
      throw error;
    }
  }
}
