/**
 * A copy of the keys under one etcd prefix (prefix-mirror.ts's {@link PrefixMirror}), as membership
 * and the schema keep theirs, and {@link readRecord}, which reads one of those keys as untrusted JSON.
 */
import type { Etcd3, IKeyValue, Watcher } from 'etcd3';
import { ClusterRecordInvalidError } from '../errors.js';
import { reasonOf, unreachable, within } from './etcd-client.js';

/** The keys under a {@link PrefixMirror}'s prefix, as of one revision. */
export interface PrefixSnapshot {
  /** The revision etcd listed them at (int64: a bigint). */
  readonly revision: bigint;
  /** The keys, oldest first: by create revision. */
  readonly kvs: readonly IKeyValue[];
}

/** What a {@link PrefixMirror} mirrors, and whom it tells. */
export interface PrefixMirrorOptions {
  readonly prefix: string;
  /** How often it lists the prefix even when the watch saw nothing. */
  readonly relistMs: number;
  /** The first listing, then each one that differs from the last delivered (a key added, changed or gone). */
  readonly onChange: (snapshot: PrefixSnapshot) => void;
  /** The first failure of a streak of failed listings, a watch canceled by etcd, an error of onChange. */
  readonly onError: (error: unknown) => void;
}

/** Orders keys oldest first; revisions are int64 strings, compared as bigints. */
export const byCreateRevision = (a: IKeyValue, b: IKeyValue): number => {
  const [x, y] = [BigInt(a.create_revision), BigInt(b.create_revision)];
  return x < y ? -1 : x > y ? 1 : 0;
};

/**
 * A copy of the keys under one prefix, kept by a watch and by listing the whole prefix again every
 * `relistMs`. Every watch event only triggers a listing: the listing, not the event, is what is
 * delivered, so a missed event (a watch canceled by compaction, or lost across an etcd restart) is
 * repaired by the next listing, and what listeners see is always one consistent revision. Listings
 * run one at a time; a burst of events while one runs coalesces into one more.
 *
 * Never throws and never emits an unhandled error: every failure goes to `onError`.
 */
export class PrefixMirror {
  readonly #client: Etcd3;
  readonly #options: PrefixMirrorOptions;
  #watcher: Watcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #listing: Promise<void> | undefined;
  #again = false;
  #stopped = false;
  #failing = false;
  /** The keys and mod revisions last delivered, to deliver only what changed. */
  #delivered: string | undefined;

  constructor(client: Etcd3, options: PrefixMirrorOptions) {
    this.#client = client;
    this.#options = options;
  }

  /** Starts the periodic listing and lists once; resolves when that listing was delivered or failed. */
  async start(): Promise<void> {
    this.#timer = setInterval(() => this.refresh(), this.#options.relistMs).unref();
    this.refresh();
    await this.#listing;
  }

  /** Lists the prefix soon: now, or right after the listing under way. */
  refresh(): void {
    if (this.#stopped) return;
    if (this.#listing !== undefined) {
      this.#again = true;
      return;
    }
    this.#listing = this.#list().finally(() => {
      this.#listing = undefined;
      if (this.#again) {
        this.#again = false;
        this.refresh();
      }
    });
  }

  /** Stops listing and watching; within a second even when etcd is down. Safe to call twice. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    const watcher = this.#watcher;
    this.#watcher = undefined;
    // A cancel waits for etcd's answer, which never comes while etcd is down.
    if (watcher !== undefined)
      await within(
        watcher.cancel().catch(() => undefined),
        1000,
      );
  }

  async #list(): Promise<void> {
    const { prefix, onChange, onError } = this.#options;
    try {
      const response = await this.#client.getAll().prefix(prefix).exec();
      if (this.#stopped) return;
      this.#failing = false;
      const revision = BigInt(response.header.revision);
      // Watch from just after this listing: the first listing, or after etcd canceled the watch.
      if (this.#watcher === undefined) this.#watch(revision + 1n);
      const kvs = [...response.kvs].sort(byCreateRevision);
      const fingerprint = kvs.map((kv) => `${kv.mod_revision}:${kv.key.toString('hex')}`).join(',');
      if (fingerprint === this.#delivered) return;
      this.#delivered = fingerprint;
      try {
        onChange({ revision, kvs });
      } catch (error) {
        onError(error);
      }
    } catch (error) {
      // Once per outage, not every relistMs while etcd is down.
      if (!this.#failing && !this.#stopped) onError(unreachable(this.#client, error));
      this.#failing = true;
    }
  }

  #watch(from: bigint): void {
    // watcher(), not create(): create() resolves only once connected, so while etcd is down there
    // would be nothing to cancel on stop(), and its listeners would come too late.
    const watcher = this.#client.watch().prefix(this.#options.prefix).startRevision(String(from)).watcher();
    let disconnected = false;
    watcher.on('data', (response) => {
      if (response.events.length > 0) this.refresh();
    });
    watcher.on('disconnected', () => {
      disconnected = true;
    });
    watcher.on('connected', () => {
      // etcd3 resumes from the last revision it saw; a listing now repairs what a restart lost sooner.
      if (disconnected) this.refresh();
      disconnected = false;
    });
    watcher.on('error', (error) => {
      // etcd canceled the watch (compacted past its revision): etcd3 has dropped it; the next
      // listing starts a new one from its own revision.
      if (this.#watcher === watcher) this.#watcher = undefined;
      this.#options.onError(error);
      this.refresh();
    });
    this.#watcher = watcher;
  }
}

/**
 * The JSON object `kv` holds, once `problem` finds nothing wrong with it; otherwise a
 * ClusterRecordInvalidError to report, as a value written by hand or by a newer Strata must not stop
 * a node from reading the rest.
 */
export function readRecord<T>(
  kv: IKeyValue,
  problem: (value: { readonly [field: string]: unknown }) => string | undefined,
): T | InstanceType<typeof ClusterRecordInvalidError> {
  const key = kv.key.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(kv.value.toString('utf8'));
  } catch (error) {
    return new ClusterRecordInvalidError(key, `not JSON: ${reasonOf(error)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return new ClusterRecordInvalidError(key, 'not a JSON object');
  }
  const found = problem(value as { readonly [field: string]: unknown });
  return found === undefined ? (value as T) : new ClusterRecordInvalidError(key, found);
}
