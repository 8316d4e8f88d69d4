import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startAzurite, startEtcd, waitForLine } from '@strata/testing';
import test from 'ava';
import { packAll } from '../src/packages.js';

// A user's install: every package packed as it would be published, installed with plain npm into a
// project outside the workspace, and used there through the installed `strata` command only.

interface Run {
  readonly code: number;
  readonly output: string;
}

function run(command: string, args: readonly string[], cwd: string, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : Number(error.code ?? 1), output: stdout + stderr }),
    );
  });
}

/** Starts the installed `strata serve` on a free port; resolves with its URL once it listens. */
async function serve(project: string, env: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['node_modules/.bin/strata', 'serve', '--port', '0'], {
    cwd: project,
    env: { ...process.env, ...env },
  });
  const [, url] = await waitForLine(child, /listening on (http:\/\/127\.0\.0\.1:\d+)/);
  return { url: url as string, child };
}

// biome-ignore lint/suspicious/noExplicitAny: the test reads JSON replies field by field.
async function api(url: string, method: string, path: string, body?: unknown): Promise<any> {
  const response = await fetch(`${url}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text === '' ? undefined : JSON.parse(text);
}

/**
 * What npm needs to build @strata/core's zstd-napi from source with only the npm registry in reach, as
 * scripts/setup.mjs gives pnpm: no attempt at a prebuilt binary, Node's own headers, both cores.
 */
function sourceBuildEnv(): Record<string, string> {
  const prefix = resolve(process.execPath, '..', '..');
  const env: Record<string, string> = { npm_config_build_from_source: 'true', npm_config_jobs: 'max' };
  if (existsSync(join(prefix, 'include', 'node', 'common.gypi'))) env.npm_config_nodedir = prefix;
  return env;
}

async function finished(url: string, path: string): Promise<{ status: string; error?: string }> {
  for (;;) {
    const reply = await api(url, 'GET', path);
    if (['SUCCESS', 'FAILED', 'CANCELED'].includes(reply.status)) return reply;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function objectsOf(url: string): Promise<unknown[]> {
  const page = await api(url, 'GET', '/v1/objects?class=Article&limit=1000&include=vector');
  return page.objects;
}

test('packed tarballs install with npm outside the workspace; strata serves, backs up and restores through each provider, and passes conformance', async (t) => {
  const project = mkdtempSync(join(tmpdir(), 'strata-install-'));
  t.teardown(() => rmSync(project, { recursive: true, force: true }));
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'my-strata', private: true, type: 'module' }));
  const tarballs = packAll().map((pkg) => pkg.tarball);
  const started = performance.now();
  const install = await run(
    'npm',
    ['install', '--no-audit', '--no-fund', '--prefer-offline', ...tarballs, 'reflect-metadata', 'tsyringe'],
    project,
    sourceBuildEnv(),
  );
  t.is(install.code, 0, install.output);
  t.log(`npm install of ${tarballs.length} tarballs: ${((performance.now() - started) / 1000).toFixed(1)} s`);

  const azurite = await startAzurite({ containers: ['backups'] });
  t.teardown(() => azurite.stop());
  const backups = join(project, 'backups');
  const env = {
    ENABLE_MODULES: 'backup-filesystem,backup-azure',
    PERSISTENCE_DATA_PATH: join(project, 'data'),
    BACKUP_FILESYSTEM_PATH: backups,
    ...azurite.env('backups'),
  };

  const modules = await run(process.execPath, ['node_modules/.bin/strata', 'modules'], project, env);
  t.is(modules.code, 0, modules.output);
  t.regex(modules.output, /backup-azure \(alt names: azure\)\n {2}package {5}strata-backup-azure 0\.0\.0/);

  const { url, child } = await serve(project, env);
  t.teardown(() => child.kill());
  await api(url, 'POST', '/v1/schema', { class: 'Article', properties: [{ name: 'title', dataType: ['text'] }] });
  const objects = Array.from({ length: 300 }, (_, i) => ({
    class: 'Article',
    properties: { title: `article ${i}` },
    vector: [i, 0.5],
  }));
  await api(url, 'POST', '/v1/batch/objects', { objects });
  const before = await objectsOf(url);
  t.is(before.length, 300);
  for (const backend of ['filesystem', 'azure']) {
    const id = `installed-${backend}`;
    await api(url, 'POST', `/v1/backups/${backend}`, { id });
    const backup = await finished(url, `/v1/backups/${backend}/${id}`);
    t.is(backup.status, 'SUCCESS', `${backend} backup: ${backup.error}`);
    await api(url, 'DELETE', '/v1/schema/Article');
    await api(url, 'POST', `/v1/backups/${backend}/${id}/restore`, {});
    const restore = await finished(url, `/v1/backups/${backend}/${id}/restore`);
    t.is(restore.status, 'SUCCESS', `${backend} restore: ${restore.error}`);
    t.deepEqual(await objectsOf(url), before, `every object back from ${backend}`);
  }

  // The filesystem is local storage: the suite skips its cross-node checks, so no --strict there.
  // An external provider's --strict run takes the journey through a cluster too, on an etcd of its own.
  const etcd = await startEtcd();
  t.teardown(() => etcd.stop());
  const suites: Array<[string, string[], Record<string, string>]> = [
    ['backup-filesystem', [], { BACKUP_FILESYSTEM_PATH: join(project, 'conformance') }],
    ['backup-azure', ['--strict', '--etcd', etcd.endpoint], azurite.env('backups')],
  ];
  for (const [module, flags, moduleEnv] of suites) {
    const suite = await run(process.execPath, ['node_modules/.bin/strata', 'conformance', module, ...flags], project, {
      ENABLE_MODULES: '',
      ...moduleEnv,
    });
    t.is(suite.code, 0, suite.output);
    t.regex(suite.output, /\n\d+ passed, 0 failed(, \d+ skipped)?\n$/, module);
  }
});
