// The README's main command (`npm run quickstart`): Strata's module system on embedded defaults,
// with the filesystem provider enabled, loaded and put to work.
import 'reflect-metadata';
import { createHash, randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { loadModules } from '@strata/core/modules';

const appDir = fileURLToPath(new URL('../../', import.meta.url));
const repositoryRoot = resolve(appDir, '../..');

/** Embedded defaults; anything already set in the environment wins. */
const env = {
  ENABLE_MODULES: 'backup-filesystem',
  BACKUP_FILESYSTEM_PATH: resolve(repositoryRoot, '.quickstart/backups'),
  ...process.env,
};

const SAMPLE_BYTES = 64 * 1024 * 1024;
const CHUNK_BYTES = 1024 * 1024;
const MiB = 1024 * 1024;

const ok = (text: string) => console.log(`✔ ${text}`);
const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;

/** A progress line: redrawn in place on a terminal, every quarter otherwise. */
function progress(label: string, total: number): (done: number, seconds: number) => void {
  let lastQuarter = -1;
  return (done, seconds) => {
    const ratio = done / total;
    const bar = `${'█'.repeat(Math.round(ratio * 24)).padEnd(24, '░')}`;
    const line = `  ${label} [${bar}] ${Math.round(ratio * 100)}%  ${mib(done / Math.max(seconds, 1e-3))}/s`;
    if (process.stdout.isTTY) {
      process.stdout.write(`\r${line}${done === total ? '\n' : ''}`);
    } else if (Math.floor(ratio * 4) > lastQuarter) {
      lastQuarter = Math.floor(ratio * 4);
      console.log(line);
    }
  };
}

/** A stream of random sample data that reports progress and hashes what it yields. */
function sample(hash: ReturnType<typeof createHash>, report: (done: number, seconds: number) => void): Readable {
  const started = performance.now();
  return Readable.from(
    (function* () {
      for (let done = 0; done < SAMPLE_BYTES; ) {
        const chunk = randomBytes(Math.min(CHUNK_BYTES, SAMPLE_BYTES - done));
        hash.update(chunk);
        done += chunk.length;
        report(done, (performance.now() - started) / 1000);
        yield chunk;
      }
    })(),
  );
}

async function main(): Promise<void> {
  console.log('Strata quickstart: the module system with the filesystem provider, on embedded defaults\n');
  console.log(`  ENABLE_MODULES=${env.ENABLE_MODULES}`);
  console.log(`  BACKUP_FILESYSTEM_PATH=${env.BACKUP_FILESYSTEM_PATH}\n`);

  const registry = await loadModules({ env, appDir });
  try {
    for (const module of registry.modules) {
      const storage = module.capabilities.external ? 'external storage' : 'local storage';
      ok(
        `loaded ${module.name} ${module.version} (module API ${module.apiVersion}, alt names: ${module.altNames.join(', ')}), ${storage}`,
      );
    }
    const backend = registry.backend('filesystem');
    const id = `quickstart-${Date.now()}`;
    await backend.checkAccess();
    ok(`access check passed: backups go to ${backend.homePath(id)}`);

    const key = `${id}/sample.bin`;
    const written = createHash('sha256');
    const started = performance.now();
    const bytes = await backend.write(key, sample(written, progress(`writing ${key}`, SAMPLE_BYTES)));
    const seconds = (performance.now() - started) / 1000;
    const digest = written.digest('hex');
    ok(
      `wrote ${mib(bytes)} in ${seconds.toFixed(2)} s (${mib(bytes / seconds)}/s), atomically: temporary file, fsync, rename`,
    );

    const read = createHash('sha256');
    let readBytes = 0;
    for await (const chunk of await backend.read(key)) {
      read.update(chunk as Buffer);
      readBytes += (chunk as Buffer).length;
    }
    if (read.digest('hex') !== digest) throw new Error('the object read back differs from what was written');
    ok(`read it back: ${mib(readBytes)}, sha256 ${digest.slice(0, 16)}… matches`);

    const listed = [];
    for await (const object of backend.list(`${id}/`)) listed.push(`${object.key} (${mib(object.size)})`);
    ok(`listed ${id}/: ${listed.join(', ')}`);

    await backend.delete(key);
    ok('deleted it; nothing is left behind');
    console.log('\nNext: run `pnpm strata modules` with your own ENABLE_MODULES, or see docs/writing-a-provider.md.');
  } finally {
    await registry.close();
  }
}

main().catch((error: unknown) => {
  console.error(`quickstart failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
