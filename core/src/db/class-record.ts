/**
 * A class record that comes from elsewhere (the cluster's schema in etcd), checked as hostile input
 * before any of it is acted on: its definition by the class rules, its placement by the names rules,
 * so that no shard or node name it carries can reach a path outside the class's directory.
 */
import { ClassRecordInvalidError, quoted } from '../errors.js';
import { type ClassDefinition, MAX_SHARDS, normalizeClass } from './class-definition.js';
import { isRecord } from './json-objects.js';
import { NODE_NAME, NODE_NAME_RULE, SHARD_NAME, SHARD_NAME_RULE } from './names.js';
import type { ClassRecord, ShardRecord } from './schema-file.js';

/**
 * `input` as a class record: its definition normalized (defaults filled in), its shards as given, in
 * their order (routing depends on it).
 * @throws ClassRecordInvalidError naming the field that is wrong; a definition normalizeClass refuses
 * is reported as the field `definition`, with normalizeClass's error as the cause.
 */
export function validateClassRecord(input: unknown): ClassRecord {
  if (!isRecord(input)) throw new ClassRecordInvalidError('record', `must be an object, not ${quoted(input)}`);
  let definition: ClassDefinition;
  try {
    definition = normalizeClass(input.definition);
  } catch (error) {
    throw new ClassRecordInvalidError('definition', `is not a valid class: ${(error as Error).message}`).withCause(
      error,
    );
  }
  const { shards } = input;
  if (!Array.isArray(shards)) throw new ClassRecordInvalidError('shards', `must be an array, not ${quoted(shards)}`);
  // Before looking at any shard, so a record of a million shards costs nothing.
  if (shards.length < 1 || shards.length > MAX_SHARDS) {
    throw new ClassRecordInvalidError('shards', `must list 1 to ${MAX_SHARDS} shards, not ${shards.length}`);
  }
  const desired = definition.shardingConfig.desiredCount;
  if (shards.length !== desired) {
    throw new ClassRecordInvalidError(
      'shards',
      `lists ${shards.length} shards, but definition.shardingConfig.desiredCount is ${desired}`,
    );
  }
  // Ignoring case: on a case-insensitive filesystem "a" and "A" would be one directory.
  const seen = new Set<string>();
  const placement: ShardRecord[] = shards.map((shard: unknown, i) => {
    if (!isRecord(shard)) throw new ClassRecordInvalidError(`shards[${i}]`, `must be an object, not ${quoted(shard)}`);
    const { name, node } = shard;
    if (typeof name !== 'string' || !SHARD_NAME.test(name)) {
      throw new ClassRecordInvalidError(`shards[${i}].name`, `is ${quoted(name)}: ${SHARD_NAME_RULE}`);
    }
    if (seen.has(name.toLowerCase())) {
      throw new ClassRecordInvalidError(`shards[${i}].name`, `${quoted(name)} repeats a shard name (ignoring case)`);
    }
    seen.add(name.toLowerCase());
    if (typeof node !== 'string' || !NODE_NAME.test(node)) {
      throw new ClassRecordInvalidError(`shards[${i}].node`, `is ${quoted(node)}: ${NODE_NAME_RULE}`);
    }
    return { name, node };
  });
  return { definition, shards: placement };
}
