import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { ModuleImportError, ModuleNotFoundError } from '../errors.js';

/**
 * Finds the package an ENABLE_MODULES entry names, searching from the application's directory the
 * way Node itself would from a file there (node_modules folders, walking up). Core never resolves
 * from its own install location: under pnpm, core cannot see the application's other packages.
 *
 * An entry is one of:
 * - a module name, `backup-s3`: the first-party `@strata/backup-s3`, then the third-party
 *   convention `strata-backup-s3`;
 * - a package name, `@acme/strata-backup-azure` or `strata-backup-azure`;
 * - a path to a module's package directory, absolute or relative to the application's directory
 *   (`./modules/backup-local`, `/opt/strata/backup-local`).
 */

/** A package found for an ENABLE_MODULES entry. */
export interface ResolvedPackage {
  /** The entry as written in ENABLE_MODULES. */
  readonly entry: string;
  /** The module name the entry asks for, when it implies one (`backup-s3` for `@strata/backup-s3`). */
  readonly expectedName: string | undefined;
  /** The package's name from its package.json. */
  readonly packageName: string;
  /** The package's version from its package.json. */
  readonly version: string;
  /** The package directory, symlinks resolved. */
  readonly directory: string;
  /** The file `import` loads: the package's `exports["."]` under Node's ESM conditions, or `main`. */
  readonly file: string;
}

interface PackageJson {
  readonly name?: unknown;
  readonly version?: unknown;
  readonly exports?: unknown;
  readonly main?: unknown;
}

const FIRST_PARTY_SCOPE = '@strata/';
const THIRD_PARTY_PREFIX = 'strata-';
/** The conditions Node applies when importing a package from ESM, in the order they are matched. */
const ESM_CONDITIONS = new Set(['node', 'import', 'module-sync', 'default']);

function isPathEntry(entry: string): boolean {
  return entry.startsWith('.') || isAbsolute(entry) || (entry.includes('/') && !entry.startsWith('@'));
}

function isPackageEntry(entry: string): boolean {
  return entry.startsWith('@') || entry.startsWith(THIRD_PARTY_PREFIX);
}

/** The packages an entry may name, in the order they are tried. */
function candidatesOf(entry: string): string[] {
  return isPackageEntry(entry) ? [entry] : [`${FIRST_PARTY_SCOPE}${entry}`, `${THIRD_PARTY_PREFIX}${entry}`];
}

/** The module name a package name implies under the naming convention, if any. */
function impliedModuleName(packageName: string): string | undefined {
  if (packageName.startsWith(FIRST_PARTY_SCOPE)) return packageName.slice(FIRST_PARTY_SCOPE.length);
  const unscoped = packageName.startsWith('@') ? packageName.slice(packageName.indexOf('/') + 1) : packageName;
  return unscoped.startsWith(THIRD_PARTY_PREFIX) ? unscoped.slice(THIRD_PARTY_PREFIX.length) : undefined;
}

/** Where Node would find package `name` for a file in `fromDir`: the first `node_modules/<name>` walking up. */
export function findPackageDir(name: string, fromDir: string): string | undefined {
  let dir = resolve(fromDir);
  for (;;) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function readPackageJson(dir: string): PackageJson {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
}

function exportsTarget(target: unknown): string | undefined {
  if (typeof target === 'string') return target;
  if (Array.isArray(target)) {
    for (const alternative of target) {
      const found = exportsTarget(alternative);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (typeof target === 'object' && target !== null) {
    for (const [condition, value] of Object.entries(target)) {
      if (!ESM_CONDITIONS.has(condition)) continue;
      const found = exportsTarget(value);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** The file `import('<package>')` loads, relative to the package directory; throws a reason if none. */
function entryFile(dir: string, pkg: PackageJson): string {
  if (pkg.exports !== undefined && pkg.exports !== null) {
    const exported = pkg.exports as Record<string, unknown>;
    const hasSubpaths = typeof exported === 'object' && Object.keys(exported).some((key) => key.startsWith('.'));
    const target = exportsTarget(hasSubpaths ? exported['.'] : exported);
    if (target === undefined) throw new Error('its package.json "exports" has no "." entry for import');
    return join(dir, target);
  }
  const main = typeof pkg.main === 'string' ? pkg.main : 'index.js';
  for (const candidate of [main, `${main}.js`, join(main, 'index.js')]) {
    const file = join(dir, candidate);
    if (existsSync(file) && statSync(file).isFile()) return file;
  }
  throw new Error(`its package.json "main" (${main}) names no file`);
}

function resolvedPackage(entry: string, expectedName: string | undefined, directory: string): ResolvedPackage {
  let pkg: PackageJson;
  let file: string;
  try {
    pkg = readPackageJson(directory);
    file = entryFile(directory, pkg);
  } catch (error) {
    throw new ModuleImportError(entry, join(directory, 'package.json'), (error as Error).message).withCause(error);
  }
  const packageName = typeof pkg.name === 'string' ? pkg.name : directory;
  const version = typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  return { entry, expectedName, packageName, version, directory, file };
}

function installHint(entry: string, appDir: string, candidates: readonly string[]): string {
  const alternatives = 'or write its package name or the path to its directory in ENABLE_MODULES.';
  if (candidates.length === 1) return `Install it in ${appDir} (npm install ${entry}), ${alternatives}`;
  const hint =
    `Install it in ${appDir} (npm install ${candidates[0]} for a first-party module, ` +
    `${candidates[1]} for a third-party one), ${alternatives}`;
  if (entry.startsWith('backup-')) return hint;
  const full = `backup-${entry}`;
  if (candidatesOf(full).some((candidate) => findPackageDir(candidate, appDir) !== undefined)) {
    return `Did you mean "${full}"? ENABLE_MODULES takes module names, not alt names.`;
  }
  return `${hint} Strata modules are backup providers named backup-<provider> (backup-filesystem, backup-s3, backup-gcs); Weaviate's other modules (text2vec-*, generative-*, ...) do not exist in Strata.`;
}

/**
 * Resolves one ENABLE_MODULES entry from `appDir`.
 * @throws ModuleNotFoundError naming every place tried and how to install the module.
 * @throws ModuleImportError when the package is there but its package.json names no importable file.
 */
export function resolveModuleEntry(entry: string, appDir: string): ResolvedPackage {
  if (isPathEntry(entry)) {
    const directory = resolve(appDir, entry);
    if (!existsSync(join(directory, 'package.json'))) {
      throw new ModuleNotFoundError(
        entry,
        appDir,
        [join(directory, 'package.json')],
        'A path entry must name a module package directory, one with a package.json.',
      );
    }
    return resolvedPackage(entry, undefined, realpathSync(directory));
  }
  const packageEntry = isPackageEntry(entry);
  const candidates = candidatesOf(entry);
  const expectedName = packageEntry ? impliedModuleName(entry) : entry;
  for (const candidate of candidates) {
    const directory = findPackageDir(candidate, appDir);
    if (directory !== undefined) return resolvedPackage(entry, expectedName, directory);
  }
  throw new ModuleNotFoundError(entry, appDir, candidates, installHint(entry, appDir, candidates));
}
