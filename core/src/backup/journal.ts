import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BackendScope } from '../provider/backend.js';

/**
 * The operation this node is running, recorded in `<data path>/backup-journal.json` while it runs.
 * If the node dies, the journal survives it, and on start-up the operation is marked FAILED in its
 * provider ("node restarted during backup") instead of staying STARTED forever, as Weaviate's can,
 * or SUCCESS for a restore whose classes were already attached.
 */
export interface JournalEntry {
  readonly kind: 'backup' | 'restore';
  readonly id: string;
  readonly backend: string;
  readonly scope: BackendScope;
  readonly startedAt: string;
  /**
   * A restore's classes and the shards each attaches. Attaching commits in schema.json, so if the
   * schema holds exactly these on start-up, the restore finished attaching before the node died.
   */
  readonly attaches?: ReadonlyArray<{ readonly class: string; readonly shards: readonly string[] }>;
}

const FILE = 'backup-journal.json';

export function readJournal(dataPath: string): JournalEntry | undefined {
  try {
    return JSON.parse(readFileSync(join(dataPath, FILE), 'utf8')) as JournalEntry;
  } catch {
    return undefined;
  }
}

export function writeJournal(dataPath: string, entry: JournalEntry): void {
  const file = join(dataPath, FILE);
  writeFileSync(`${file}.tmp`, JSON.stringify(entry));
  const fd = openSync(`${file}.tmp`, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(`${file}.tmp`, file);
}

export function clearJournal(dataPath: string): void {
  rmSync(join(dataPath, FILE), { force: true });
}
