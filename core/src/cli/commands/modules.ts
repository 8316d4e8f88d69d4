import { loadModules } from '../../modules/load.js';
import type { ConfigEntry } from '../../modules/read-config.js';
import type { LoadedModule } from '../../modules/registry.js';
import { type CliIO, type Command, parseCommandArgs } from '../command.js';

const help = `Usage: strata modules [--json]

Loads the modules named in ENABLE_MODULES exactly as a node would, then lists each with its
package version, module API version, alt names, storage kind and resolved configuration.
Secret values are shown as ***. Modules are resolved from the current directory.

Exits with status 1 and every problem of every module (not installed, not a module, missing or
invalid variables, ...) when ENABLE_MODULES cannot be loaded.

Options:
  --json      print the list as JSON
  -h, --help  show this help

Example:
  ENABLE_MODULES=backup-filesystem BACKUP_FILESYSTEM_PATH=/var/lib/strata/backups strata modules
`;

function configLine(entry: ConfigEntry, width: number): string {
  const name = entry.variable.padEnd(width);
  switch (entry.source) {
    case 'environment':
      return `  ${name}  ${entry.shown}${entry.from === entry.variable ? '' : `  (from ${entry.from})`}`;
    case 'default':
      return `  ${name}  ${entry.shown}  (default)`;
    case 'unset':
      return `  ${name}  (unset)`;
  }
}

function describe(module: LoadedModule): string {
  const alt = module.altNames.length > 0 ? ` (alt names: ${module.altNames.join(', ')})` : '';
  const storage = module.capabilities.external
    ? 'external: usable by a multi-node cluster'
    : 'local: not usable by a multi-node cluster';
  const width = Math.max(...module.config.map((entry) => entry.variable.length), 0);
  return [
    `${module.name}${alt}`,
    `  package     ${module.packageName} ${module.version} (${module.directory})`,
    `  module API  ${module.apiVersion}`,
    `  storage     ${storage}`,
    ...(module.config.length > 0
      ? ['  configuration:', ...module.config.map((entry) => `  ${configLine(entry, width)}`)]
      : []),
  ].join('\n');
}

function asJson(module: LoadedModule) {
  return {
    name: module.name,
    altNames: module.altNames,
    apiVersion: module.apiVersion,
    package: module.packageName,
    version: module.version,
    directory: module.directory,
    capabilities: module.capabilities,
    config: module.config.map(({ variable, shown, source, from, secret, required }) => ({
      variable,
      value: source === 'unset' ? null : shown,
      source,
      from: from ?? null,
      secret,
      required,
    })),
    meta: module.meta,
  };
}

async function run(args: readonly string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs('modules', args, { json: { type: 'boolean' } });
  if (values.help) {
    io.stdout.write(help);
    return 0;
  }
  const registry = await loadModules({ env: io.env, appDir: io.cwd });
  try {
    if (values.json) {
      io.stdout.write(`${JSON.stringify(registry.modules.map(asJson), null, 2)}\n`);
    } else if (registry.modules.length === 0) {
      io.stdout.write(
        'No modules enabled: ENABLE_MODULES is empty.\n' +
          'Enable the filesystem provider with, for example:\n' +
          '  ENABLE_MODULES=backup-filesystem BACKUP_FILESYSTEM_PATH=/var/lib/strata/backups strata modules\n',
      );
    } else {
      const count = registry.modules.length;
      io.stdout.write(`${count} module${count === 1 ? '' : 's'} enabled (ENABLE_MODULES=${io.env.ENABLE_MODULES})\n\n`);
      io.stdout.write(`${registry.modules.map(describe).join('\n\n')}\n`);
    }
  } finally {
    await registry.close();
  }
  return 0;
}

export const modulesCommand: Command = { help, run };
