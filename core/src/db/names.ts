/**
 * The names that become directory names and object-key segments: a node's, a shard's. Each one is
 * a single path segment by construction (no separator, never `.` or `..`), so nothing named by a
 * request, a configuration or a backup can point outside the directory it is joined to.
 */

/** CLUSTER_HOSTNAME: 1 to 64 letters, digits, `_`, `-` and `.`, but not `.` or `..`. */
export const NODE_NAME = /^(?!\.\.?$)[A-Za-z0-9_.-]{1,64}$/;

/** A shard: 1 to 64 letters, digits, `_` and `-` (Weaviate's tenant names; Strata makes 12 letters and digits). */
export const SHARD_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** What {@link NODE_NAME} allows, for messages. */
export const NODE_NAME_RULE = 'use 1 to 64 letters, digits, "_", "-" and "." (but not "." or "..")';

/** What {@link SHARD_NAME} allows, for messages. */
export const SHARD_NAME_RULE = 'use 1 to 64 letters, digits, "_" and "-"';
