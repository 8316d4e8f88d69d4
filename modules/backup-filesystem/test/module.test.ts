import 'reflect-metadata';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StrataError } from '@strata/core';
import { loadModules } from '@strata/core/modules';
import test from 'ava';
import { appWithModule, temporaryDir } from './helpers.js';

async function load(dir: string, env: Record<string, string>) {
  return loadModules({ enableModules: 'backup-filesystem', env, appDir: await appWithModule(dir) });
}

async function refusal(dir: string, env: Record<string, string>) {
  const error = (await load(dir, env).then(
    () => undefined,
    (e: unknown) => e,
  )) as (StrataError & { problems: StrataError[] }) | undefined;
  if (error === undefined) throw new Error('loading should have failed');
  return error.problems;
}

test('ENABLE_MODULES=backup-filesystem loads it; it answers to backup-filesystem and filesystem', async (t) => {
  const dir = await temporaryDir(t.teardown);
  const registry = await load(dir, { BACKUP_FILESYSTEM_PATH: join(dir, 'backups') });
  const [module] = registry.modules;
  t.like(module, {
    name: 'backup-filesystem',
    altNames: ['filesystem'],
    apiVersion: 1,
    packageName: '@strata/backup-filesystem',
    capabilities: { external: false },
    meta: { backupsPath: join(dir, 'backups') },
  });
  t.is(registry.backend('filesystem'), registry.backend('backup-filesystem'));
  t.is(registry.backend('filesystem').homePath('bk-1'), join(dir, 'backups', 'bk-1'));
});

test('BACKUP_FILESYSTEM_PATH is created if absent, parents included', async (t) => {
  const dir = await temporaryDir(t.teardown);
  const root = join(dir, 'not', 'yet', 'there');
  await load(dir, { BACKUP_FILESYSTEM_PATH: `${root}/` });
  t.true((await stat(root)).isDirectory());
});

test('a missing BACKUP_FILESYSTEM_PATH is refused with what to set', async (t) => {
  const problems = await refusal(await temporaryDir(t.teardown), {});
  t.deepEqual(
    problems.map((p) => [p.code, p.message]),
    [
      [
        'STRATA_MODULE_CONFIG_MISSING',
        'backup-filesystem: BACKUP_FILESYSTEM_PATH is required but not set. The absolute directory backups are written to; created if absent.',
      ],
    ],
  );
});

test('a relative BACKUP_FILESYSTEM_PATH is refused with how to fix it', async (t) => {
  const problems = await refusal(await temporaryDir(t.teardown), { BACKUP_FILESYSTEM_PATH: 'backups' });
  t.deepEqual(
    problems.map((p) => [p.code, p.message]),
    [
      [
        'STRATA_MODULE_CONFIG_INVALID',
        'backup-filesystem: BACKUP_FILESYSTEM_PATH="backups" is invalid: relative path provided; use an absolute path such as /var/lib/strata/backups',
      ],
    ],
  );
});

test('a BACKUP_FILESYSTEM_PATH that cannot be created fails the start with the reason', async (t) => {
  const dir = await temporaryDir(t.teardown);
  await writeFile(join(dir, 'file'), 'not a directory');
  const problems = await refusal(dir, { BACKUP_FILESYSTEM_PATH: join(dir, 'file', 'backups') });
  t.is(problems[0]?.code, 'STRATA_MODULE_REGISTER_FAILED');
  t.true(
    problems[0]?.message.startsWith(
      `module "backup-filesystem" failed to start: backup-filesystem cannot use ${join(dir, 'file', 'backups')}: ENOTDIR`,
    ),
    problems[0]?.message,
  );
  t.true(problems[0]?.message.endsWith('names a directory the Strata process may create, read and write.'));
});
