/**
 * `<data path>/cluster.json`: which cluster a data path belongs to, and the data path's own id. A node
 * whose data path belongs to another cluster than the etcd it is given holds (a new or wiped etcd, a
 * wrong endpoint) refuses to start, rather than following an empty schema and deleting its classes.
 */
import { randomUUID } from 'node:crypto';
import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { ClusterFileError } from '../errors.js';

/** What cluster.json holds. */
export interface ClusterIdentity {
  readonly version: 1;
  /** The id etcd's `cluster` key holds (membership.ts). */
  readonly clusterId: string;
  /** This data path's id: a restart after a crash on the same data path may take its membership back at once. */
  readonly dataPathId: string;
}

const FILE = 'cluster.json';

/**
 * The identity recorded in `dataPath`, or undefined when it has never been part of a cluster.
 * @throws ClusterFileError when the file is unreadable or not an identity.
 */
export async function readClusterIdentity(dataPath: string): Promise<ClusterIdentity | undefined> {
  const file = join(dataPath, FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ClusterFileError(file, (error as Error).message);
  }
  let identity: Partial<ClusterIdentity>;
  try {
    identity = JSON.parse(text) as Partial<ClusterIdentity>;
  } catch (error) {
    throw new ClusterFileError(file, (error as Error).message);
  }
  if (identity?.version !== 1 || typeof identity.clusterId !== 'string' || typeof identity.dataPathId !== 'string') {
    throw new ClusterFileError(file, 'expected {"version": 1, "clusterId": "...", "dataPathId": "..."}');
  }
  return identity as ClusterIdentity;
}

/** A new identity for a data path joining cluster `clusterId`. */
export function newClusterIdentity(clusterId: string): ClusterIdentity {
  return { version: 1, clusterId, dataPathId: randomUUID() };
}

/** Records `identity` in `dataPath` durably: temporary file, fsync, rename, directory fsync. */
export async function writeClusterIdentity(dataPath: string, identity: ClusterIdentity): Promise<void> {
  const file = join(dataPath, FILE);
  const temporary = `${file}.tmp`;
  const handle = await open(temporary, 'w');
  try {
    await handle.writeFile(`${JSON.stringify(identity, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, file);
  const directory = await open(dataPath, 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}
