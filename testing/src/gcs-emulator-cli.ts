/**
 * `pnpm gcs-emulator [--bucket NAME]...`: runs the Cloud Storage emulator in the foreground and prints
 * what to export so a node backs up to it. Buckets default to `strata-backups`. Ctrl-C stops it.
 */
import { startGcsEmulator } from './gcs-emulator.js';

const args = process.argv.slice(2);
const buckets: string[] = [];
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  const value = args[i + 1];
  if (arg !== '--bucket' || value === undefined) {
    console.error(`usage: pnpm gcs-emulator [--bucket NAME]...  (got ${JSON.stringify(arg)})`);
    process.exit(2);
  }
  buckets.push(value);
  i++;
}
if (buckets.length === 0) buckets.push('strata-backups');

const emulator = await startGcsEmulator({ buckets });
const [first = 'strata-backups'] = buckets;
const exports = Object.entries({ ENABLE_MODULES: 'backup-gcs', ...emulator.env(first) })
  .map(([name, value]) => `export ${name}=${value}`)
  .join('\n');
console.log(`Cloud Storage emulator at ${emulator.endpoint} (buckets: ${buckets.join(', ')})

To back up to it, start a node with:

${exports}

Ctrl-C stops the emulator (its objects live in memory and go with it).`);

const stop = () => void emulator.stop().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
