import type { CallOptions } from '@strata/core';
import { BackupHome } from '@strata/core/backup';
import { type ConformanceAssertions, randomName } from '../harness.js';
import type { Subject } from '../subject.js';

/** Where a journey's backup lives: its id and keys, and the location its requests name. */
export interface JourneyBackup {
  readonly id: string;
  /** The backup's keys, as core lays them out: the suite never builds or slices a key itself. */
  readonly home: BackupHome;
  /** `config` for create and restore: a `Path` of the suite's own when the module supports one. */
  readonly config: Record<string, string>;
  /** The same, as a query string for status and cancel. */
  readonly query: string;
  /** Where the backup's objects are, for the suite's own backend calls. */
  readonly options: CallOptions;
}

/**
 * A backup of a fresh id (`tag` and a random part) for a journey, at a path of the suite's own when
 * the module supports one. Its objects are the suite's to remove, whatever the journey left: a
 * teardown does, registered first so that it runs last, after the nodes stopped.
 */
export function journeyBackup(t: ConformanceAssertions, subject: Subject, tag: string): JourneyBackup {
  const id = randomName(tag);
  const home = new BackupHome(id);
  const path = subject.scopePath(tag);
  const options: CallOptions = path === undefined ? {} : { scope: { path } };
  t.teardown(async () => {
    for await (const object of subject.backend.list(home.prefix, options))
      await subject.backend.delete(object.key, options);
  });
  return {
    id,
    home,
    config: path === undefined ? {} : { Path: path },
    query: path === undefined ? '' : `?path=${encodeURIComponent(path)}`,
    options,
  };
}
