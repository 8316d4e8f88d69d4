// Debian packages that `npm test`'s set-up installs when a command its tests run is missing (etcd.mjs,
// and zstd through ensureCommand below).
import { spawnSync } from 'node:child_process';

/** The first line `command --version` prints, or undefined when it does not run. */
export function version(command) {
  const result = spawnSync(command, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return result.status === 0 ? result.stdout.split('\n')[0] : undefined;
}

/** True when this process may install Debian packages: root, on a system with apt-get. */
export function canInstall() {
  return process.getuid?.() === 0 && version('apt-get') !== undefined;
}

/** Runs `apt-get -q ARGS` without questions, its output kept for when it fails. */
function aptGet(...args) {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  return spawnSync('apt-get', ['-q', ...args], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * Installs Debian's package `name`, running `apt-get update` only if the install fails without it.
 * Returns undefined once installed, or else the last lines apt-get printed.
 */
export function aptInstall(name) {
  let result = aptGet('install', '-y', name);
  if (result.status !== 0) {
    const update = aptGet('update');
    result = update.status === 0 ? aptGet('install', '-y', name) : update;
  }
  return result.status === 0 ? undefined : `${result.stdout}${result.stderr}`.trim().split('\n').slice(-5).join('\n');
}

/**
 * Makes sure `command` runs, installing Debian's package `name` when it does not and this process
 * may. Otherwise, or when that fails, says how to install it and goes on: the tests that run it then
 * fail (they never skip) and the others run. Prints nothing when the command is there.
 */
export function ensureCommand(command, name, neededBy) {
  if (version(command) !== undefined) return;
  const howTo = `install it with \`apt-get install ${name}\` (Debian, Ubuntu)`;
  if (!canInstall()) {
    console.log(`setup: ${command} is not on PATH; ${neededBy} will fail until you ${howTo}.`);
    return;
  }
  console.log(`setup: ${command} is not on PATH; installing ${name} with apt-get`);
  const failure = aptInstall(name);
  if (failure === undefined && version(command) !== undefined) {
    console.log(`setup: installed ${name} (${version(command)})`);
    return;
  }
  console.log(`setup: apt-get could not install ${name}; ${neededBy} will fail until you ${howTo}.`);
  if (failure) console.log(failure);
}
