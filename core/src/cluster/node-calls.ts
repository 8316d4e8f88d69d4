/**
 * Calls on any node of the cluster by name: this node's own handlers directly, another node's over
 * the internal API. A node that is not a live member now fails at once, naming the node (and the
 * shard and class the call was for), without a connection attempt.
 */
import { NodeUnavailableError } from '../errors.js';
import type { MemberInfo } from './membership.js';
import type { PeerCallName, PeerCalls, PeerHandlers } from './peer-calls.js';
import type { PeerClient } from './peer-client.js';

/** What a call is for, so a failure can say which shard could not be reached. */
export interface CallTarget {
  readonly shard?: string;
  readonly className?: string;
}

export class NodeCalls {
  readonly self: string;
  readonly #local: PeerHandlers;
  readonly #client: PeerClient;
  readonly #members: () => readonly MemberInfo[];

  /** `self` is this node's name; `members` the live members now. */
  constructor(self: string, local: PeerHandlers, client: PeerClient, members: () => readonly MemberInfo[]) {
    this.self = self;
    this.#local = local;
    this.#client = client;
    this.#members = members;
  }

  /** The names of the live members other than this node. */
  peers(): string[] {
    return this.#members()
      .map((member) => member.name)
      .filter((name) => name !== this.self);
  }

  /**
   * Makes `call` on node `node`.
   * @throws NodeUnavailableError when the node is not a live member or does not answer; else what the call throws.
   */
  async call<K extends PeerCallName>(
    node: string,
    call: K,
    args: PeerCalls[K]['args'],
    target: CallTarget = {},
  ): Promise<PeerCalls[K]['result']> {
    if (node === this.self) return (this.#local[call] as (a: typeof args) => Promise<PeerCalls[K]['result']>)(args);
    const member = this.#members().find((candidate) => candidate.name === node);
    if (member === undefined) {
      throw new NodeUnavailableError(node, 'it is not a live member of the cluster', target.shard, target.className);
    }
    return this.#client.call(member, call, args, target);
  }
}
