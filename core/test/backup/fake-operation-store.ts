/**
 * A cluster's operation store in memory, shaped as etcd's (core/src/cluster/etcd-operation-store.ts):
 * one record per operation, held by the claim of the node that wrote it first. Each node writes
 * through its own view ({@link FakeOperationStore.view}), and every put and remove of a view is fenced
 * on that claim: once another node holds it, or the node's claim lapsed, the write is refused with
 * OperationFencedError and nothing is written. A test can hand the claim to a successor at any moment
 * ({@link FakeOperationStore.takeOver}, or from {@link FakeOperationStore.beforePut}), make a node's
 * claims lapse ({@link FakeOperationStore.expire}: its operations become orphans), and fail puts as
 * an unreachable etcd does ({@link FakeOperationStore.failPuts}).
 *
 * Every call is written to `journal` (`put STARTED`, `put STARTED committed`, `refused TRANSFERRED`,
 * `put TRANSFERRED committed -> SUCCESS` for an outcome decided, `unreachable SUCCESS`, `remove`), which a test shares with a recording backend to check the order
 * of the store's writes and the provider's.
 */

import type { ListedOperation, OperationState, SharedOperationStore } from '../../src/backup/operation-store.js';
import { operationKey } from '../../src/backup/operation-store.js';
import { EtcdUnreachableError, OperationFencedError } from '../../src/errors.js';

interface Entry {
  state: OperationState;
  coordinator: string;
  claimed: boolean;
  revision: number;
}

/** What a put failure is for: the `count` next puts `when` matches. */
interface Failure {
  count: number;
  readonly when: (state: OperationState) => boolean;
  readonly error: () => Error;
}

export const unreachable = () => new EtcdUnreachableError(['http://127.0.0.1:2379'], 'connection refused (test)');

export class FakeOperationStore {
  readonly journal: string[];
  readonly #entries = new Map<string, Entry>();
  /** Per node, the runs (key and startedAt) whose claim it lost: a put never claims them again, as etcd's. */
  readonly #lost = new Map<string, Set<string>>();
  readonly #failures: Failure[] = [];
  readonly #listeners = new Set<(orphans: readonly ListedOperation[]) => void>();
  #revision = 0;
  /** Called before each put is looked at, with the writing node and the state (to take over at a given phase). */
  beforePut: (node: string, state: OperationState) => void = () => {};
  /** Awaited before each adopt is looked at (a slow etcd round trip). */
  beforeAdopt: (node: string, listed: ListedOperation) => Promise<void> = async () => {};

  constructor(journal: string[] = []) {
    this.journal = journal;
  }

  /** The store as node `node` sees it: its writes fenced on its claims. */
  view(node: string): SharedOperationStore {
    return {
      list: async () => [...this.#entries.values()].map((entry) => entry.state),
      put: async (state) => this.#put(node, state),
      remove: async (state) => this.#remove(node, state),
      snapshot: async () => ({ operations: this.listed() }),
      adopt: async (listed) => {
        await this.beforeAdopt(node, listed);
        return this.#adopt(node, listed);
      },
      watchOrphans: (listener) => {
        this.#listeners.add(listener);
        const orphans = this.orphans();
        if (orphans.length > 0) listener(orphans);
        return () => this.#listeners.delete(listener);
      },
    };
  }

  /** The record of `state`'s operation, with its coordinator. */
  entry(state: Pick<OperationState, 'kind' | 'backend' | 'id' | 'scope'>): Readonly<Entry> | undefined {
    return this.#entries.get(operationKey(state));
  }

  listed(): ListedOperation[] {
    return [...this.#entries.values()].map((entry) => ({
      state: entry.state,
      coordinator: entry.coordinator,
      claimed: entry.claimed,
      revision: String(entry.revision),
    }));
  }

  orphans(): ListedOperation[] {
    return this.listed().filter((listed) => !listed.claimed);
  }

  /** Records `state` as node `node` wrote it, holding its claim (a coordinator that recorded it earlier). */
  seed(node: string, state: OperationState, claimed = true): void {
    this.#entries.set(operationKey(state), { state, coordinator: node, claimed, revision: ++this.#revision });
  }

  /** Node `holder` takes the claim of `state`'s operation and records `record`: a successor. */
  takeOver(state: OperationState, holder: string, record: OperationState = state): void {
    const key = operationKey(state);
    const before = this.#entries.get(key);
    if (before !== undefined && before.coordinator !== holder) this.#lose(before.coordinator, key, before.state);
    this.#entries.set(key, { state: record, coordinator: holder, claimed: true, revision: ++this.#revision });
    this.journal.push(`taken over by ${holder}`);
  }

  /** Node `node`'s lease lapsed: its claims go, its operations are orphans for another node to adopt. */
  expire(node: string): void {
    for (const [key, entry] of this.#entries) {
      if (entry.coordinator !== node || !entry.claimed) continue;
      entry.claimed = false;
      entry.revision = ++this.#revision;
      this.#lose(node, key, entry.state);
    }
    const orphans = this.orphans();
    for (const listener of this.#listeners) listener(orphans);
  }

  /** Fails the next `count` puts whose state `when` matches, with `error` (etcd unreachable by default). */
  failPuts(count: number, when: (state: OperationState) => boolean = () => true, error = unreachable): void {
    this.#failures.push({ count, when, error });
  }

  #lose(node: string, key: string, state: OperationState): void {
    const lost = this.#lost.get(node) ?? new Set<string>();
    lost.add(`${key}@${state.startedAt}`);
    this.#lost.set(node, lost);
  }

  #fenced(node: string, state: OperationState, entry: Entry | undefined): Error {
    return new OperationFencedError(
      state.kind,
      state.id,
      node,
      entry?.claimed === true ? entry.coordinator : undefined,
    );
  }

  #put(node: string, state: OperationState): void {
    this.beforePut(node, state);
    const decided = state.outcome === undefined ? '' : ` -> ${state.outcome.status}`;
    const what = `${state.status}${state.committed === true ? ' committed' : ''}${decided}`;
    const failure = this.#failures.find((f) => f.count > 0 && f.when(state));
    if (failure !== undefined) {
      failure.count--;
      this.journal.push(`unreachable ${what}`);
      throw failure.error();
    }
    const key = operationKey(state);
    const entry = this.#entries.get(key);
    const lost = this.#lost.get(node)?.has(`${key}@${state.startedAt}`) === true;
    if (entry === undefined ? lost : entry.coordinator !== node || !entry.claimed) {
      this.journal.push(`refused ${what}`);
      throw this.#fenced(node, state, entry);
    }
    this.#entries.set(key, { state, coordinator: node, claimed: true, revision: ++this.#revision });
    this.journal.push(`put ${what}`);
  }

  #remove(node: string, state: OperationState): void {
    const key = operationKey(state);
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    if (entry.coordinator !== node || !entry.claimed) {
      this.journal.push('refused remove');
      throw this.#fenced(node, state, entry);
    }
    this.#entries.delete(key);
    this.journal.push('remove');
  }

  #adopt(node: string, listed: ListedOperation): boolean {
    const entry = this.#entries.get(operationKey(listed.state));
    if (entry === undefined || entry.claimed || String(entry.revision) !== listed.revision) return false;
    this.#entries.set(operationKey(listed.state), {
      ...entry,
      coordinator: node,
      claimed: true,
      revision: ++this.#revision,
    });
    this.journal.push(`adopted by ${node}`);
    return true;
  }
}
