/**
 * This node's place in the cluster, kept in etcd: a member key (`strata/members/<name>`) attached to
 * the node's lease, so that it vanishes within the lease's TTL when the node dies, and a permanent
 * `strata/nodes/<name>`, so the cluster knows every node that ever joined. {@link Membership} claims
 * the key, keeps it (a new lease and a new claim after losing the lease, for as long as etcd takes to
 * come back), mirrors the live members and the known nodes, and says whether this node is healthy.
 *
 * Two processes never share a data path (the data path is locked), so a member key that carries this
 * node's data path id was left by this data path's previous process, dead: it is taken over at once.
 * A key with another data path id is another node of the same name: it is waited for, and refused.
 */
import { randomUUID } from 'node:crypto';
import type { Etcd3, Lease } from 'etcd3';
import { EtcdUnreachableError, NodeNameLiveError } from '../errors.js';
import { jittered, pause, unreachable, within } from './etcd-client.js';
import { CLUSTER_KEY, MEMBERS_PREFIX, memberKey, NODES_PREFIX, nameOf, nodeKey } from './etcd-keys.js';
import { PrefixMirror, type PrefixSnapshot, readRecord } from './prefix-mirror.js';

/** What a node tells the cluster about itself. */
export interface MemberInfo {
  /** CLUSTER_HOSTNAME. */
  readonly name: string;
  /** The base URL of its internal API, which other nodes call. */
  readonly internalUrl: string;
  /** Its Strata version. */
  readonly version: string;
}

/** A member as its key holds it: JSON in `strata/members/<name>` (and, last joined, `strata/nodes/<name>`). */
export interface Member extends MemberInfo {
  /** The id of the node's data path: tells its own previous process from another node of the same name. */
  readonly dataPathId: string;
  /** When this process joined (ISO 8601). */
  readonly startedAt: string;
}

/** Options of {@link Membership.join}. */
export interface JoinOptions {
  /** The lease's TTL, whole seconds: how long a dead node stays a member. etcd raises one below its minimum. */
  readonly ttlSeconds: number;
  /** The id recorded in this node's data path. */
  readonly dataPathId: string;
  /**
   * Problems the membership works around on its own, for the node's log: etcd unreachable, a lost
   * lease, an invalid member record, a listener's error. Unless told, `process.emitWarning`.
   */
  readonly onError?: (error: unknown) => void;
  /** How often the members are listed again, to repair missed watch events; 2000 ms unless told. */
  readonly relistMs?: number;
}

/** What {@link Membership.on} tells. Listeners run synchronously; their errors go to `onError`. */
export interface MembershipEvents {
  /** The live members changed: all of them, sorted by name. */
  members: (members: readonly Member[]) => void;
  /** A node joined for the first time: every node that ever joined, sorted. */
  known: (names: readonly string[]) => void;
  /** {@link Membership.healthy} changed. */
  health: (healthy: boolean) => void;
  /** {@link Membership.leaseId} changed: a claim under a new lease, or the lease lost (undefined). */
  lease: (leaseId: string | undefined) => void;
}

/** How long a member key of another data path is waited for, beyond its TTL. */
const WAIT_BEYOND_TTL_MS = 2000;
/** How often a claim looks again whether that key is gone. */
const CLAIM_POLL_MS = 250;
/** How often a lost lease is replaced while etcd does not answer. */
const RECOVER_EVERY_MS = 1000;
/** How long {@link Membership.leave} waits for etcd to revoke the lease. */
const LEAVE_TIMEOUT_MS = 3000;

/**
 * The cluster's id: the one in `strata/cluster`, or a new random one put there if there is none,
 * in one transaction, so every node of one etcd gets the same id. A node compares it with the id its
 * data path recorded, to refuse joining another cluster's etcd.
 *
 * @throws EtcdUnreachableError when etcd does not answer.
 */
export async function clusterId(client: Etcd3): Promise<string> {
  const fresh = randomUUID();
  try {
    const response = await client
      .if(CLUSTER_KEY, 'Create', '==', 0)
      .then(client.put(CLUSTER_KEY).value(fresh))
      .else(client.get(CLUSTER_KEY))
      .commit();
    if (response.succeeded) return fresh;
    const existing = response.responses[0]?.response_range?.kvs[0]?.value.toString('utf8');
    // The else branch read the key its compare found: it is there, and not empty unless written by hand.
    if (existing === undefined || existing === '') throw new TypeError(`${CLUSTER_KEY} in etcd is empty`);
    return existing;
  } catch (error) {
    throw unreachable(client, error);
  }
}

/** True for `http://host:port` (what a node records; other nodes send it calls with credentials). */
function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' && url.username === '' && url.password === '' && url.port !== '';
  } catch {
    return false;
  }
}

/** A member record's first problem, or undefined: every field a string, the name its key's. */
function memberProblem(name: string | undefined) {
  return (value: { readonly [field: string]: unknown }): string | undefined => {
    for (const field of ['name', 'internalUrl', 'version', 'dataPathId', 'startedAt']) {
      if (typeof value[field] !== 'string') return `${field} is not a string`;
    }
    if (!isHttpUrl(value.internalUrl as string)) return 'internalUrl is not an http:// URL';
    return value.name === name ? undefined : `its name is not its key's ${JSON.stringify(name)}`;
  };
}

/**
 * One node's membership, from {@link Membership.join} to {@link Membership.leave}.
 *
 * `healthy` is true while this node's lease is alive and its member key claimed: false as soon as a
 * keepalive fails or the lease is lost, true again once a keepalive succeeds (or a new claim did).
 * After losing the lease it grants a new one and claims its key again, retrying about every second
 * until etcd answers, with the same rules as join. Nothing it does throws or rejects unhandled while
 * etcd is down. Safe to use from one event loop; `leave()` may be called at any time, twice.
 */
export class Membership {
  readonly #client: Etcd3;
  readonly #self: Member;
  readonly #ttl: number;
  readonly #report: (error: unknown) => void;
  readonly #mirrors: readonly PrefixMirror[];
  readonly #listeners = {
    members: new Set<MembershipEvents['members']>(),
    known: new Set<MembershipEvents['known']>(),
    health: new Set<MembershipEvents['health']>(),
    lease: new Set<MembershipEvents['lease']>(),
  };
  #state: 'joining' | 'joined' | 'left' = 'joining';
  #lease: Lease | undefined;
  #claimed = false;
  /** The id of the lease the member key was last claimed with; undefined while none is. */
  #leaseId: string | undefined;
  /** The revision of the latest claim: listings older than it may lack the key. */
  #claimRevision = 0n;
  #healthy = false;
  #members: readonly Member[] = [];
  #known: readonly string[] = [];
  #recovering: Promise<void> | undefined;
  #leaving: Promise<void> | undefined;

  private constructor(client: Etcd3, self: MemberInfo, options: JoinOptions) {
    if (!Number.isInteger(options.ttlSeconds) || options.ttlSeconds < 1) {
      throw new TypeError(`ttlSeconds must be a whole number of at least 1, not ${options.ttlSeconds}`);
    }
    this.#client = client;
    const { name, internalUrl, version } = self;
    this.#self = {
      name,
      internalUrl,
      version,
      dataPathId: options.dataPathId,
      startedAt: new Date().toISOString(),
    };
    this.#ttl = options.ttlSeconds;
    this.#report = options.onError ?? ((error) => process.emitWarning(error instanceof Error ? error : String(error)));
    const relistMs = options.relistMs ?? 2000;
    const onError = (error: unknown) => this.#report(error);
    this.#mirrors = [
      new PrefixMirror(client, { prefix: MEMBERS_PREFIX, relistMs, onError, onChange: (s) => this.#onMembers(s) }),
      new PrefixMirror(client, { prefix: NODES_PREFIX, relistMs, onError, onChange: (s) => this.#onNodes(s) }),
    ];
  }

  /**
   * Joins the cluster as `self`: grants a lease of `ttlSeconds`, claims `strata/members/<name>` with
   * it (in one transaction: only if the key does not exist), and records `strata/nodes/<name>`.
   * A key left by this data path's previous process is taken over at once (a transaction on its mod
   * revision); one of another data path is waited for, at most `ttlSeconds` + 2 s. Resolves once the
   * members and known nodes are listed.
   *
   * @throws NodeNameLiveError when another node of that name stays live.
   * @throws EtcdUnreachableError when etcd does not answer.
   */
  static async join(client: Etcd3, self: MemberInfo, options: JoinOptions): Promise<Membership> {
    const membership = new Membership(client, self, options);
    try {
      await membership.#acquire();
      await Promise.all(membership.#mirrors.map((mirror) => mirror.start()));
    } catch (error) {
      await membership.leave();
      throw error;
    }
    membership.#state = 'joined';
    return membership;
  }

  /** This node, as its member key holds it. */
  get self(): Member {
    return this.#self;
  }

  /** True while the lease is alive and the member key claimed; false after {@link leave}. */
  get healthy(): boolean {
    return this.#healthy;
  }

  /**
   * The id of the lease this node's member key was claimed with (an int64 as etcd3 gives it, a
   * decimal string), until that lease is lost; undefined before, meanwhile and after {@link leave}.
   * What other keys attach to, and what writes that must stop with this node's membership (an
   * operation's claim) are fenced on. Locally it may lag: etcd can expire the lease before this node
   * learns it, so only a transaction comparing a key's lease with it proves it alive.
   */
  get leaseId(): string | undefined {
    return this.#leaseId;
  }

  /** The live members as last listed, sorted by name. */
  members(): Member[] {
    return [...this.#members];
  }

  /** Every node that ever joined, sorted: the live members among them even before their node key is listed. */
  known(): string[] {
    return [...new Set([...this.#known, ...this.#members.map((member) => member.name)])].sort();
  }

  /** Calls `listener` on every `event` until the returned function is called, or {@link leave}. */
  on<E extends keyof MembershipEvents>(event: E, listener: MembershipEvents[E]): () => void {
    const listeners = this.#listeners[event] as Set<MembershipEvents[E]>;
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  /**
   * Leaves the cluster: revokes the lease, so the member key goes at once (within 3 s when etcd does
   * not answer; the key then expires with its TTL), and stops watches and timers. Never rejects;
   * safe to call twice. The client stays open: the caller closes it, after this, because closing an
   * etcd3 client does not end its lease keepalive stream: without leave() the lease would live on
   * for as long as the process does.
   */
  leave(): Promise<void> {
    this.#leaving ??= this.#leave();
    return this.#leaving;
  }

  async #leave(): Promise<void> {
    this.#state = 'left';
    this.#healthy = false;
    this.#claimed = false;
    this.#leaseId = undefined;
    const lease = this.#lease;
    this.#lease = undefined;
    const revoked = lease?.revoke().catch((error: unknown) => this.#report(unreachable(this.#client, error)));
    await Promise.all([within(revoked ?? Promise.resolve(), LEAVE_TIMEOUT_MS), ...this.#mirrors.map((m) => m.stop())]);
    for (const listeners of Object.values(this.#listeners)) listeners.clear();
  }

  /** Grants a lease and claims the member key with it; the lease is revoked again when the claim fails. */
  async #acquire(): Promise<void> {
    const lease = this.#client.lease(this.#ttl);
    this.#lease = lease;
    lease.on('lost', (error) => this.#lost(lease, error));
    lease.on('keepaliveFailed', () => {
      if (lease === this.#lease) this.#setHealthy(false);
    });
    lease.on('keepaliveSucceeded', () => {
      if (lease === this.#lease && this.#claimed) this.#setHealthy(true);
    });
    let leaseId: string;
    try {
      leaseId = await lease.grant();
      await this.#claim(leaseId);
    } catch (error) {
      // Not left to linger a TTL, nor to keep alive.
      void lease.revoke().catch(() => undefined);
      throw unreachable(this.#client, error);
    }
    if (this.#state === 'left') {
      void lease.revoke().catch(() => undefined);
      return;
    }
    this.#claimed = true;
    this.#setLease(leaseId);
    // The claim's put carried the lease: etcd has just said it is alive.
    this.#setHealthy(true);
  }

  /** Puts the member key with `leaseId` (and the node key), by the rules of {@link join}. */
  async #claim(leaseId: string): Promise<void> {
    const { name } = this.#self;
    const key = memberKey(name);
    const value = JSON.stringify(this.#self);
    const puts = () => [
      this.#client.put(key).value(value).lease(leaseId),
      this.#client.put(nodeKey(name)).value(value),
    ];
    let deadline: number | undefined;
    while (this.#state !== 'left') {
      const response = await this.#client
        .if(key, 'Create', '==', 0)
        .then(...puts())
        .else(this.#client.get(key))
        .commit();
      if (response.succeeded) {
        this.#claimRevision = BigInt(response.header.revision);
        return;
      }
      const existing = response.responses[0]?.response_range?.kvs[0];
      const holder = existing === undefined ? undefined : readRecord<Member>(existing, memberProblem(name));
      const member = holder instanceof Error ? undefined : holder;
      if (existing !== undefined && member?.dataPathId === this.#self.dataPathId) {
        // This data path's previous process, dead: take its key over unless it changed meanwhile.
        const takeover = await this.#client
          .if(key, 'Mod', '==', existing.mod_revision)
          .then(...puts())
          .commit();
        if (takeover.succeeded) {
          this.#claimRevision = BigInt(takeover.header.revision);
          return;
        }
        continue;
      }
      deadline ??= Date.now() + this.#ttl * 1000 + WAIT_BEYOND_TTL_MS;
      const left = deadline - Date.now();
      if (left <= 0) throw new NodeNameLiveError(name, member?.internalUrl ?? 'an unknown address');
      await pause(Math.min(CLAIM_POLL_MS, left));
    }
  }

  /** The lease is gone (expired, or kept alive too late): become unhealthy and get another. */
  #lost(lease: Lease, error: unknown): void {
    // While recovering, a new lease that etcd did not grant is lost too: the recovery reports it.
    if (lease !== this.#lease || this.#state !== 'joined' || this.#recovering !== undefined) return;
    this.#claimed = false;
    this.#setLease(undefined);
    this.#setHealthy(false);
    this.#report(error);
    this.#recover();
  }

  /** Grants a new lease and claims the key again, every second or so until it works or the node leaves. */
  #recover(): void {
    if (this.#recovering !== undefined || this.#state !== 'joined') return;
    this.#recovering = (async () => {
      for (let attempt = 1; this.#state === 'joined'; attempt++) {
        try {
          await this.#acquire();
          return;
        } catch (error) {
          // Once per outage for an etcd that does not answer; every time for anything else.
          if (this.#state === 'joined' && (attempt === 1 || !EtcdUnreachableError.is(error))) this.#report(error);
          await pause(jittered(RECOVER_EVERY_MS));
        }
      }
    })().finally(() => {
      this.#recovering = undefined;
    });
  }

  #onMembers({ revision, kvs }: PrefixSnapshot): void {
    const members: Member[] = [];
    for (const kv of kvs) {
      const member = readRecord<Member>(kv, memberProblem(nameOf(MEMBERS_PREFIX, kv.key)));
      if (member instanceof Error) this.#report(member);
      else members.push(member);
    }
    members.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    if (JSON.stringify(members) !== JSON.stringify(this.#members)) {
      this.#members = members;
      this.#emit('members', this.members());
    }
    // The key is gone though the lease seemed alive (deleted by hand, or expired while keepalives
    // lagged): a listing taken after the claim that lacks it means a new lease and a new claim.
    const mine = members.some((member) => member.name === this.#self.name);
    if (!mine && this.#state === 'joined' && this.#claimed && revision >= this.#claimRevision) {
      const lease = this.#lease;
      this.#lease = undefined;
      void lease?.revoke().catch(() => undefined);
      this.#claimed = false;
      this.#setLease(undefined);
      this.#setHealthy(false);
      this.#recover();
    }
  }

  #onNodes({ kvs }: PrefixSnapshot): void {
    const names = kvs.flatMap((kv) => nameOf(NODES_PREFIX, kv.key) ?? []).sort();
    if (names.join('\n') === this.#known.join('\n')) return;
    this.#known = names;
    this.#emit('known', this.known());
  }

  #setHealthy(healthy: boolean): void {
    if (healthy === this.#healthy || this.#state === 'left') return;
    this.#healthy = healthy;
    this.#emit('health', healthy);
  }

  #setLease(leaseId: string | undefined): void {
    if (leaseId === this.#leaseId || this.#state === 'left') return;
    this.#leaseId = leaseId;
    this.#emit('lease', leaseId);
  }

  #emit<E extends keyof MembershipEvents>(event: E, ...args: Parameters<MembershipEvents[E]>): void {
    for (const listener of this.#listeners[event]) {
      try {
        (listener as (...values: Parameters<MembershipEvents[E]>) => void)(...args);
      } catch (error) {
        this.#report(error);
      }
    }
  }
}
