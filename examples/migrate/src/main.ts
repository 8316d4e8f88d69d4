// `pnpm --filter @strata/example-migrate start`: runs the migration of migration.ts and compares every
// object node B restored with what node A backed up. Exits 1 on any difference.
import 'reflect-metadata';
import { isDeepStrictEqual } from 'node:util';
import { migrate } from './migration.js';

// ENABLE_MODULES names are resolved from the application's directory: this example's.
process.chdir(new URL('../../', import.meta.url).pathname);

const started = performance.now();
const { before, after } = await migrate({ log: (line) => console.log(line) });
const differing = [...before].filter(([id, object]) => !isDeepStrictEqual(after.get(id), object)).length;
const seconds = ((performance.now() - started) / 1000).toFixed(1);
if (differing > 0 || after.size !== before.size) {
  console.error(`✘ ${differing} of ${before.size} objects differ; node B holds ${after.size} (${seconds} s)`);
  process.exit(1);
}
console.log(`✔ every one of the ${before.size} objects came back identical (${seconds} s)`);
