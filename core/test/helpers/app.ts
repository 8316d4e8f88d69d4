import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The @strata/core package directory (this test runs from core/dist/test/helpers). */
export const coreDir = fileURLToPath(new URL('../../../', import.meta.url));

/** A package to install into a fixture application's node_modules. */
export interface FixturePackage {
  readonly name: string;
  readonly version?: string;
  /** Files of the package, by relative path; `index.js` is the entry unless package.json says otherwise. */
  readonly files: Readonly<Record<string, string>>;
  /** Extra package.json fields (`exports`, `main`, ...). */
  readonly packageJson?: Readonly<Record<string, unknown>>;
}

/** A throwaway application directory: node_modules with the given packages and a link to this core. */
export interface FixtureApp {
  readonly dir: string;
  remove(): Promise<void>;
}

export async function writePackage(dir: string, pkg: FixturePackage): Promise<void> {
  await mkdir(dir, { recursive: true });
  const manifest = { name: pkg.name, version: pkg.version ?? '1.2.3', type: 'module', ...pkg.packageJson };
  await writeFile(join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
  for (const [file, content] of Object.entries(pkg.files)) {
    await mkdir(dirname(join(dir, file)), { recursive: true });
    await writeFile(join(dir, file), content);
  }
}

/** Creates an application directory whose node_modules holds `packages` and @strata/core. */
export async function makeApp(packages: readonly FixturePackage[]): Promise<FixtureApp> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-app-'));
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'fixture-app', private: true, type: 'module' }));
  await mkdir(join(dir, 'node_modules', '@strata'), { recursive: true });
  await symlink(coreDir, join(dir, 'node_modules', '@strata', 'core'), 'dir');
  for (const pkg of packages) await writePackage(join(dir, 'node_modules', pkg.name), pkg);
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Options of {@link moduleSource}. */
export interface ModuleSourceOptions {
  readonly name: string;
  readonly altNames?: readonly string[];
  readonly apiVersion?: number;
  readonly external?: boolean;
  /** The `config` object literal, as JavaScript source. */
  readonly config?: string;
  /** The body of `register({ container, config, logger })`, as JavaScript source. */
  readonly register?: string;
  /** The `meta` function, as JavaScript source; by default it counts the configuration's keys. */
  readonly meta?: string;
}

/**
 * The source of a module's index.js, made with the real defineBackupModule. By default it registers an
 * in-memory backend whose homePath echoes the module's name.
 */
export function moduleSource(options: ModuleSourceOptions): string {
  const register =
    options.register ??
    `container.register(BACKUP_BACKEND, { useValue: { name: ${JSON.stringify(options.name)}, homePath: (id) => '${options.name}:' + id } });`;
  return `import { BACKUP_BACKEND, defineBackupModule, parsers, ConfigValueError } from '@strata/core';
export default defineBackupModule({
  name: ${JSON.stringify(options.name)},
  altNames: ${JSON.stringify(options.altNames ?? [])},
  apiVersion: ${options.apiVersion ?? 1},
  capabilities: { external: ${options.external ?? true} },
  config: ${options.config ?? '{}'},
  meta: ${options.meta ?? '(config) => ({ configured: Object.keys(config).length })'},
  async register({ container, config, logger }) { ${register} },
});
`;
}

/** A first-party-style package `@strata/<name>` holding a module made by {@link moduleSource}. */
export function modulePackage(options: ModuleSourceOptions & { readonly packageName?: string }): FixturePackage {
  return { name: options.packageName ?? `@strata/${options.name}`, files: { 'index.js': moduleSource(options) } };
}
