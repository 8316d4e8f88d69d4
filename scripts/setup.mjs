// Set-up shared by `npm run quickstart` and `npm test`, for a machine with only Node 20 and npm:
// installs pnpm (with npm, when the right version is missing) and the workspace's dependencies
// from the lockfile; with `--etcd` (`npm test`), also etcd for the tests that start one (etcd.mjs),
// and with `--zstd` (`npm test`) the zstd command for the tests that read zstd chunks by hand.
// Safe to run again; a warm run takes about a second.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ensureCommand } from './apt.mjs';
import { ensureEtcd } from './etcd.mjs';

const PNPM_VERSION = '12.21.0';
const [major, minor] = process.versions.node.split('.').map(Number);

if (major < 20 || (major === 20 && minor < 19)) {
  console.error(`setup: Strata needs Node.js 20.19 or newer; this is ${process.version}.`);
  process.exit(1);
}

function versionOf(command) {
  try {
    return execFileSync(command, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

/** pnpm on PATH, or in npm's global bin folder when that is not on PATH. */
function findPnpm() {
  if (versionOf('pnpm') === PNPM_VERSION) return 'pnpm';
  const prefix = execFileSync('npm', ['prefix', '-g'], { encoding: 'utf8' }).trim();
  const global = join(prefix, 'bin', 'pnpm');
  return existsSync(global) && versionOf(global) === PNPM_VERSION ? global : undefined;
}

function run(command, args, env = process.env) {
  const result = spawnSync(command, args, { stdio: 'inherit', env });
  if (result.status !== 0) {
    console.error(`setup: \`${command} ${args.join(' ')}\` failed (exit ${result.status ?? result.signal}).`);
    process.exit(1);
  }
}

/**
 * What node-gyp needs to build zstd-napi from source with only the npm registry in reach: Node's own
 * headers, which its install carries beside the binary (<prefix>/include/node; otherwise node-gyp
 * downloads them), and every core for the compiler (about 25 s on 2 cores instead of 50). Settings
 * the caller made win.
 */
function nativeBuildEnv(env) {
  const prefix = resolve(process.execPath, '..', '..');
  const headers = existsSync(join(prefix, 'include', 'node', 'common.gypi')) ? { npm_config_nodedir: prefix } : {};
  return { ...headers, npm_config_jobs: 'max', ...env };
}

let pnpm = findPnpm();
if (pnpm === undefined) {
  console.log(`setup: installing pnpm ${PNPM_VERSION} with npm`);
  run('npm', ['install', '--global', '--no-fund', '--no-audit', '--allow-scripts=pnpm', `pnpm@${PNPM_VERSION}`]);
  pnpm = findPnpm();
  if (pnpm === undefined) {
    console.error(`setup: pnpm ${PNPM_VERSION} was installed but cannot be found; add \`npm prefix -g\`/bin to PATH.`);
    process.exit(1);
  }
}
run(pnpm, ['install', '--frozen-lockfile'], nativeBuildEnv(process.env));

if (process.argv.includes('--etcd')) ensureEtcd();
if (process.argv.includes('--zstd')) ensureCommand('zstd', 'zstd', 'the tests that read zstd chunks by hand');
