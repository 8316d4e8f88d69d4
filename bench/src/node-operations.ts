import { BENCH_CLASS } from './generate-store.js';
import { best, mib } from './measure.js';
import { api, type Child, finished } from './strata-child.js';

// Polling every 5 ms (as bench:backup does) cost the node about 7% of a 20 s backup on 2 cores.
const POLL_MS = 50;

/** Bytes and objects stored under a prefix, as the provider's server keeps them. */
export type Stored = (prefix: string) => Promise<{ bytes: number; files: number }>;

/**
 * Backups and restores of the bench class through a node's REST API to `backend` (`s3`, `gcs`), each
 * timed as the best of the rounds; `uploaded` collects what each backup stored.
 */
export function nodeOperations(child: Child, backend: string, stored: Stored) {
  let backups = 0;
  const uploaded: string[] = [];
  const dropClass = () =>
    api(child, 'GET', `/v1/schema/${BENCH_CLASS}`).then(
      () => api(child, 'DELETE', `/v1/schema/${BENCH_CLASS}`),
      () => {},
    );
  return {
    uploaded,
    /** Backs the class up; resolves with the last backup's id and the best time. */
    async backup(CompressionLevel: string): Promise<{ id: string; ms: number }> {
      let id = '';
      const ms = await best(async () => {
        id = `strata-${++backups}`;
        await api(child, 'POST', `/v1/backups/${backend}`, {
          id,
          include: [BENCH_CLASS],
          config: { CompressionLevel },
        });
        await finished(child, `/v1/backups/${backend}/${id}`, POLL_MS);
      });
      const size = await stored(id);
      uploaded.push(`${CompressionLevel}: ${mib(size.bytes)} in ${size.files} objects`);
      return { id, ms };
    },
    /** Restores backup `id` into the node without the class; resolves with the best time. */
    restore(id: string): Promise<number> {
      return best(async () => {
        await api(child, 'POST', `/v1/backups/${backend}/${id}/restore`, {});
        await finished(child, `/v1/backups/${backend}/${id}/restore`, POLL_MS);
      }, dropClass);
    },
  };
}
