// etcd for the tests that start one (`startEtcd` of @strata/testing), made present by `npm test`'s
// set-up (setup.mjs --etcd).
import { aptInstall, canInstall, version } from './apt.mjs';

const HOW_TO =
  'install it with `apt-get install etcd-server` (Debian, Ubuntu) or set STRATA_ETCD_BIN to an etcd binary';

/**
 * Makes sure STRATA_ETCD_BIN, or else `etcd` on PATH, runs. When neither does and this process is root
 * on a system with apt-get, installs Debian's etcd-server (`apt-get update` only if the install fails
 * without it). Otherwise, or when that fails, says how to install it and goes on: the tests that start
 * etcd then fail with the same advice, and the others run. Prints nothing when etcd is there.
 */
export function ensureEtcd() {
  const configured = process.env.STRATA_ETCD_BIN;
  if (version(configured ?? 'etcd') !== undefined) return;
  if (configured !== undefined || !canInstall()) {
    const missing = configured === undefined ? 'etcd is not on PATH' : `STRATA_ETCD_BIN (${configured}) does not run`;
    console.log(`setup: ${missing}; the tests that start etcd will fail until you ${HOW_TO}.`);
    return;
  }
  console.log('setup: etcd is not on PATH; installing etcd-server with apt-get');
  const failure = aptInstall('etcd-server');
  const installed = version('etcd');
  if (failure === undefined && installed !== undefined) {
    console.log(`setup: installed etcd-server (${installed})`);
    return;
  }
  console.log(`setup: apt-get could not install etcd-server; the tests that start etcd will fail until you ${HOW_TO}.`);
  if (failure) console.log(failure);
}
