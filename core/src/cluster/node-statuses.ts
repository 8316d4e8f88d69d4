/**
 * `GET /v1/nodes` for a cluster: every node that ever joined, in name order; a live member asked for
 * its shards (HEALTHY when it answers, UNHEALTHY when it does not), any other UNAVAILABLE.
 */
import type { NodeStatus } from '../db/index.js';
import { ClassNotFoundError } from '../errors.js';
import type { Membership } from './membership.js';
import type { NodeCalls } from './node-calls.js';

export async function clusterNodeStatuses(
  membership: Membership,
  calls: NodeCalls,
  className?: string,
): Promise<NodeStatus[]> {
  const live = new Set(membership.members().map((member) => member.name));
  const names = [...new Set([...membership.known(), ...live])].sort();
  return Promise.all(
    names.map(async (name): Promise<NodeStatus> => {
      if (!live.has(name)) return { name, status: 'UNAVAILABLE', shards: [] };
      try {
        const shards = await calls.call(name, 'shardStats', className === undefined ? {} : { className });
        return { name, status: 'HEALTHY', shards };
      } catch (error) {
        // A node that has not applied a new class yet holds none of its shards.
        if (ClassNotFoundError.is(error)) return { name, status: 'HEALTHY', shards: [] };
        return { name, status: 'UNHEALTHY', shards: [] };
      }
    }),
  );
}
