// etcd for the tests that start one (`startEtcd` of @strata/testing), made present by `npm test`'s
// set-up (setup.mjs --etcd).
import { spawnSync } from 'node:child_process';

const HOW_TO =
  'install it with `apt-get install etcd-server` (Debian, Ubuntu) or set STRATA_ETCD_BIN to an etcd binary';

/** The first line `command --version` prints, or undefined when it does not run. */
function version(command) {
  const result = spawnSync(command, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return result.status === 0 ? result.stdout.split('\n')[0] : undefined;
}

/** Runs `apt-get -q ARGS` without questions, its output kept for when it fails. */
function aptGet(...args) {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  return spawnSync('apt-get', ['-q', ...args], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * Makes sure STRATA_ETCD_BIN, or else `etcd` on PATH, runs. When neither does and this process is root
 * on a system with apt-get, installs Debian's etcd-server (`apt-get update` only if the install fails
 * without it). Otherwise, or when that fails, says how to install it and goes on: the tests that start
 * etcd then fail with the same advice, and the others run. Prints nothing when etcd is there.
 */
export function ensureEtcd() {
  const configured = process.env.STRATA_ETCD_BIN;
  if (version(configured ?? 'etcd') !== undefined) return;
  if (configured !== undefined || process.getuid?.() !== 0 || version('apt-get') === undefined) {
    const missing = configured === undefined ? 'etcd is not on PATH' : `STRATA_ETCD_BIN (${configured}) does not run`;
    console.log(`setup: ${missing}; the tests that start etcd will fail until you ${HOW_TO}.`);
    return;
  }
  console.log('setup: etcd is not on PATH; installing etcd-server with apt-get');
  let result = aptGet('install', '-y', 'etcd-server');
  if (result.status !== 0) {
    const update = aptGet('update');
    result = update.status === 0 ? aptGet('install', '-y', 'etcd-server') : update;
  }
  const installed = version('etcd');
  if (result.status === 0 && installed !== undefined) {
    console.log(`setup: installed etcd-server (${installed})`);
    return;
  }
  console.log(`setup: apt-get could not install etcd-server; the tests that start etcd will fail until you ${HOW_TO}.`);
  const said = `${result.stdout}${result.stderr}`.trim();
  if (said !== '') console.log(said.split('\n').slice(-5).join('\n'));
}
