/**
 * The operation store of a cluster: every backup and restore in etcd, so any node can read it and
 * another node can take over one whose coordinator died. Each operation has two keys
 * (etcd-keys.ts): a record, without a lease, that outlives its coordinator, and a claim on the
 * coordinator's lease that vanishes within the lease's TTL when the coordinator dies or stalls.
 *
 * Every write is one transaction fenced on the claim: it goes through only while the claim's lease is
 * this node's current lease. A coordinator that stalled past its TTL (a GC pause, a frozen VM) may
 * still believe it coordinates; its next write is refused ({@link OperationFencedError}), so it can
 * never overwrite what its successor wrote. Nothing here reads a key and then writes what it read.
 */
import { CompareResult, CompareTarget, type Etcd3, type ICompare, type IKeyValue, type IOperation } from 'etcd3';
import type { ListedOperation, OperationState, SharedOperationStore } from '../backup/operation-store.js';
import { ClusterRecordInvalidError, OperationFencedError } from '../errors.js';
import { unreachable } from './etcd-client.js';
import {
  OPERATION_CLAIMS_PREFIX,
  OPERATION_RECORDS_PREFIX,
  OPERATIONS_PREFIX,
  operationClaimKey,
  operationHashOf,
  operationRecordKey,
} from './etcd-keys.js';
import {
  claimProblem,
  hashOf,
  type OperationClaimValue,
  type OperationRecordValue,
  recordProblem,
} from './operation-records.js';
import { byCreateRevision, PrefixMirror, readRecord } from './prefix-mirror.js';

/** Options of {@link EtcdOperationStore}. */
export interface EtcdOperationStoreOptions {
  /** This node's name (CLUSTER_HOSTNAME): what its claims and records name. */
  readonly node: string;
  /**
   * This node's lease now, `() => membership.leaseId`; undefined while it holds none (every write is
   * then refused). Read at each call, never kept, so a lease replaced after a loss is used at once.
   */
  readonly leaseId: () => string | undefined;
  /**
   * Problems the store works around, for the node's log: a value that is no operation record or claim
   * (skipped), a failed listing or a listener's error while watching. Unless told, `process.emitWarning`.
   */
  readonly onError?: (error: unknown) => void;
  /** How often {@link EtcdOperationStore.watchOrphans} lists again, to repair missed events; 2000 ms unless told. */
  readonly relistMs?: number;
}

/** Every operation etcd holds, and the keys whose values are no operation record. */
export interface OperationSnapshot {
  /** Oldest first (by when their record was created). */
  readonly operations: readonly ListedOperation[];
  /** Record keys skipped as damaged: operations that exist, unreadable (reported to `onError`). */
  readonly skipped: readonly string[];
}

/** The keys of one operation. */
interface Keys {
  readonly hash: string;
  readonly record: string;
  readonly claim: string;
}

const keysOf = (state: OperationState): Keys => {
  const hash = hashOf(state);
  return { hash, record: operationRecordKey(hash), claim: operationClaimKey(hash) };
};

/** A raw comparison, for a {@link nested} transaction (the outer one's compares etcd3's builder makes). */
const compare = (key: string, target: 'Create' | 'Lease', value: string | number): ICompare => ({
  key: Buffer.from(key),
  target: CompareTarget[target],
  result: CompareResult.Equal,
  [target === 'Create' ? 'create_revision' : 'lease']: value,
});

/**
 * A transaction as one clause of another's branch, which etcd (3.3 and later) applies atomically with
 * the outer one; etcd3's builder has no such clause. Its keys are raw: the client must not be namespaced.
 */
const nested = (compares: readonly ICompare[], success: readonly IOperation[], failure: readonly IOperation[]) => ({
  op: async () => ({
    request_txn: {
      compare: [...compares],
      success: await Promise.all(success.map((clause) => clause.op())),
      failure: await Promise.all(failure.map((clause) => clause.op())),
    },
  }),
});

/**
 * Backups and restores of the whole cluster in etcd, written only by the node holding each one's
 * claim. An {@link OperationStore}, so the coordinator code of a single node runs on it unchanged; and
 * the primitives of take-over: {@link orphans}, {@link adopt} and {@link watchOrphans}. Every call
 * fails within a few seconds when etcd does not answer (EtcdUnreachableError). Safe to use from any
 * number of nodes at once.
 */
export class EtcdOperationStore implements SharedOperationStore {
  readonly #client: Etcd3;
  readonly #node: string;
  readonly #leaseId: () => string | undefined;
  readonly #report: (error: unknown) => void;
  readonly #relistMs: number;
  /**
   * The run (its startedAt) of each operation this store claimed. A run claimed once is never claimed
   * afresh by a put: after its claim was lost, a successor may have settled and removed it, and a put
   * of the stalled coordinator finding neither key would bring it back.
   */
  readonly #runs = new Map<string, string>();

  constructor(client: Etcd3, options: EtcdOperationStoreOptions) {
    this.#client = client;
    this.#node = options.node;
    this.#leaseId = options.leaseId;
    this.#report = options.onError ?? ((error) => process.emitWarning(error instanceof Error ? error : String(error)));
    this.#relistMs = options.relistMs ?? 2000;
  }

  /**
   * Records `state`, in one transaction: if this node's lease holds the operation's claim, the record
   * is written; if the operation has neither record nor claim (a new one), it is claimed with this
   * node's lease and recorded; anything else is refused. An operation this store claimed and lost is
   * never claimed again by a put, only by {@link adopt}.
   *
   * @throws OperationFencedError when another node holds the claim, or this node's lease lapsed (the
   *   claim is gone, or this node has no lease now). Nothing was written.
   * @throws EtcdUnreachableError when etcd does not answer. A put whose answer alone was lost may have
   *   gone through; putting again is safe.
   */
  async put(state: OperationState): Promise<void> {
    const keys = keysOf(state);
    const leaseId = this.#leaseId();
    if (leaseId === undefined) throw await this.#fenced(state, keys);
    const value = JSON.stringify({ coordinator: this.#node, state } satisfies OperationRecordValue);
    const readClaim = this.#client.get(keys.claim);
    const fresh = this.#runs.get(keys.hash) !== state.startedAt;
    const claimIt = nested(
      [compare(keys.claim, 'Create', 0), compare(keys.record, 'Create', 0)],
      [this.#claimPut(keys, leaseId), this.#client.put(keys.record).value(value)],
      [readClaim],
    );
    let written: boolean;
    let claim: IKeyValue | undefined;
    try {
      const response = await this.#client
        .if(keys.claim, 'Lease', '==', leaseId)
        .then(this.#client.put(keys.record).value(value))
        .else(fresh ? claimIt : readClaim)
        .commit();
      const inner = fresh ? response.responses[0]?.response_txn : undefined;
      written = response.succeeded || inner?.succeeded === true;
      claim = (inner?.responses ?? response.responses)[0]?.response_range?.kvs[0];
    } catch (error) {
      throw unreachable(this.#client, error);
    }
    if (!written) throw this.#fencedBy(state, claim);
    this.#runs.set(keys.hash, state.startedAt);
  }

  /**
   * Forgets an operation (its record and claim, in one transaction) while this node's lease holds
   * its claim. One with neither key is forgotten already: that resolves too.
   *
   * @throws OperationFencedError when another node holds the claim, or this node's lease lapsed.
   * @throws EtcdUnreachableError when etcd does not answer.
   */
  async remove(state: OperationState): Promise<void> {
    const keys = keysOf(state);
    const leaseId = this.#leaseId();
    let removed: boolean;
    let claim: IKeyValue | undefined;
    let record: IKeyValue | undefined;
    if (leaseId === undefined) {
      removed = false;
      [claim, record] = await this.#read(keys);
    } else {
      try {
        const response = await this.#client
          .if(keys.claim, 'Lease', '==', leaseId)
          .then(this.#client.delete().key(keys.record), this.#client.delete().key(keys.claim))
          .else(this.#client.get(keys.claim), this.#client.get(keys.record))
          .commit();
        removed = response.succeeded;
        [claim, record] = response.responses.map((op) => op.response_range?.kvs[0]);
      } catch (error) {
        throw unreachable(this.#client, error);
      }
    }
    if (!removed && (claim !== undefined || record !== undefined)) throw this.#fencedBy(state, claim);
    this.#runs.delete(keys.hash);
  }

  /**
   * Every operation of the cluster, oldest first, whoever coordinates it. Values that are no
   * operation record are skipped and reported to `onError`, never thrown.
   *
   * @throws EtcdUnreachableError when etcd does not answer.
   */
  async list(): Promise<readonly OperationState[]> {
    return (await this.snapshot()).operations.map((listed) => listed.state);
  }

  /**
   * As {@link list}, with each operation's coordinator and whether its claim is alive, read at one
   * revision; and the keys of the records skipped as damaged.
   *
   * @throws EtcdUnreachableError when etcd does not answer.
   */
  async snapshot(): Promise<OperationSnapshot> {
    try {
      const { kvs } = await this.#client.getAll().prefix(OPERATIONS_PREFIX).exec();
      return this.#parse(kvs);
    } catch (error) {
      throw unreachable(this.#client, error);
    }
  }

  /**
   * The operations whose claim is gone: their coordinator died, or stalled, for longer than its lease's
   * TTL (or removed their claim by hand). Each is for some node to {@link adopt}.
   *
   * @throws EtcdUnreachableError when etcd does not answer.
   */
  async orphans(): Promise<readonly ListedOperation[]> {
    return (await this.snapshot()).operations.filter((listed) => !listed.claimed);
  }

  /**
   * Claims an orphan with this node's lease, in one transaction that succeeds only while it has no
   * claim and its record exists (and, given a {@link ListedOperation}, is the one listed): of nodes
   * adopting it at once, exactly one wins. Resolves true when this node holds it now (also when an
   * earlier attempt of this node went through with its answer lost), false when another node adopted it
   * first, or it was removed or changed since it was listed. The winner's next {@link put} (as
   * the adopter, naming itself the coordinator) is fenced on its lease like any other; its earlier
   * coordinator's is refused from now on.
   *
   * @throws OperationFencedError when this node holds no lease now.
   * @throws EtcdUnreachableError when etcd does not answer.
   */
  async adopt(operation: OperationState | ListedOperation): Promise<boolean> {
    const listed = 'claimed' in operation ? operation : undefined;
    const state = listed?.state ?? (operation as OperationState);
    const keys = keysOf(state);
    const leaseId = this.#leaseId();
    if (leaseId === undefined) throw await this.#fenced(state, keys);
    let won: boolean;
    try {
      let transaction = this.#client.if(keys.claim, 'Create', '==', 0).and(keys.record, 'Create', '>', 0);
      if (listed !== undefined) transaction = transaction.and(keys.record, 'Mod', '==', listed.revision);
      const response = await transaction
        .then(this.#claimPut(keys, leaseId))
        .else(this.#client.get(keys.claim))
        .commit();
      const claim = response.responses[0]?.response_range?.kvs[0];
      won = response.succeeded || claim?.lease === leaseId;
    } catch (error) {
      throw unreachable(this.#client, error);
    }
    if (won) this.#runs.set(keys.hash, state.startedAt);
    return won;
  }

  /**
   * Calls `listener` with every orphan when they are first listed, whenever they change (a prefix watch
   * sees a claim expire within moments, and a listing every `relistMs` repairs a lost watch), and again
   * every `relistMs` while any is left, so an adoption that failed (etcd down) is tried again. Calls can
   * come while the listener's last adoption is still under way: it must tolerate that (adopt() of one
   * already adopted resolves false). Errors of the listener go to `onError`. Returns the function that
   * stops it.
   */
  watchOrphans(listener: (orphans: readonly ListedOperation[]) => void): () => void {
    let latest: readonly ListedOperation[] = [];
    let delivered: string | undefined;
    const deliver = () => {
      delivered = latest.map((listed) => `${hashOf(listed.state)}:${listed.revision}`).join(',');
      try {
        listener(latest);
      } catch (error) {
        this.#report(error);
      }
    };
    const mirror = new PrefixMirror(this.#client, {
      prefix: OPERATIONS_PREFIX,
      relistMs: this.#relistMs,
      onError: (error) => this.#report(error),
      onChange: ({ kvs }) => {
        latest = this.#parse(kvs).operations.filter((listed) => !listed.claimed);
        const fingerprint = latest.map((listed) => `${hashOf(listed.state)}:${listed.revision}`).join(',');
        if (fingerprint !== delivered) deliver();
      },
    });
    void mirror.start();
    const timer = setInterval(() => latest.length > 0 && deliver(), this.#relistMs).unref();
    return () => {
      clearInterval(timer);
      void mirror.stop();
    };
  }

  /** The put of the claim of `keys` on `leaseId`. */
  #claimPut(keys: Keys, leaseId: string) {
    const value: OperationClaimValue = { node: this.#node };
    return this.#client.put(keys.claim).value(JSON.stringify(value)).lease(leaseId);
  }

  /** The claim and the record of `keys`, at one revision: the else branch of a compare that never holds. */
  async #read(keys: Keys): Promise<(IKeyValue | undefined)[]> {
    try {
      const response = await this.#client
        .if(keys.claim, 'Create', '<', 0)
        .else(this.#client.get(keys.claim), this.#client.get(keys.record))
        .commit();
      return response.responses.map((op) => op.response_range?.kvs[0]);
    } catch (error) {
      throw unreachable(this.#client, error);
    }
  }

  /** The refusal of a write to `state`, naming the claim's holder as etcd holds it now. */
  async #fenced(state: OperationState, keys: Keys): Promise<unknown> {
    const [claim] = await this.#read(keys);
    return this.#fencedBy(state, claim);
  }

  /** The refusal of a write to `state` whose claim is `claim` (undefined: no claim, the lease lapsed). */
  #fencedBy(state: OperationState, claim: IKeyValue | undefined): InstanceType<typeof OperationFencedError> {
    let holder: string | undefined;
    if (claim !== undefined) {
      const value = readRecord<OperationClaimValue>(claim, claimProblem);
      if (value instanceof ClusterRecordInvalidError) this.#report(value);
      holder = value instanceof ClusterRecordInvalidError ? 'unknown (its claim is unreadable)' : value.node;
    }
    return new OperationFencedError(state.kind, state.id, this.#node, holder);
  }

  /** The operations among `kvs` (keys under the operations prefix), with their claims. */
  #parse(kvs: readonly IKeyValue[]): OperationSnapshot {
    const claims = new Map<string, IKeyValue>();
    for (const kv of kvs) {
      const hash = operationHashOf(OPERATION_CLAIMS_PREFIX, kv.key);
      if (hash !== undefined) claims.set(hash, kv);
    }
    const operations: ListedOperation[] = [];
    const skipped: string[] = [];
    for (const kv of [...kvs].sort(byCreateRevision)) {
      if (!kv.key.toString('utf8').startsWith(OPERATION_RECORDS_PREFIX)) continue;
      const hash = operationHashOf(OPERATION_RECORDS_PREFIX, kv.key);
      const record = readRecord<OperationRecordValue>(kv, recordProblem(hash));
      if (record instanceof ClusterRecordInvalidError) {
        this.#report(record);
        skipped.push(kv.key.toString('utf8'));
        continue;
      }
      const claimKv = hash === undefined ? undefined : claims.get(hash);
      // A claim that is unreadable is still a claim: some node's lease holds it, so it is no orphan.
      const claim = claimKv === undefined ? undefined : readRecord<OperationClaimValue>(claimKv, claimProblem);
      if (claim instanceof ClusterRecordInvalidError) this.#report(claim);
      const coordinator =
        claim === undefined || claim instanceof ClusterRecordInvalidError ? record.coordinator : claim.node;
      operations.push({ state: record.state, coordinator, claimed: claimKv !== undefined, revision: kv.mod_revision });
    }
    return { operations, skipped };
  }
}
