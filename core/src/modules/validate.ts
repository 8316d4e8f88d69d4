import {
  ModuleApiVersionError,
  ModuleInvalidDefinitionError,
  ModuleNameMismatchError,
  ModuleNotBrandedError,
} from '../errors.js';
import { type BackupModule, MODULE_BRAND, moduleDefinitionProblem } from '../provider/module-definition.js';
import { CORE_VERSION } from '../version.js';
import type { ResolvedPackage } from './resolve.js';

/** The module API versions this core can load. */
export const SUPPORTED_MODULE_API_VERSIONS: readonly number[] = [1];

/**
 * Checks that what a package exports is a backup module this core can load: branded by
 * `defineBackupModule`, well-formed, named as the ENABLE_MODULES entry asked, and written for a
 * supported module API version.
 */
export function validateModule(resolved: ResolvedPackage, exported: unknown): BackupModule {
  const pkg = `${resolved.packageName}@${resolved.version} at ${resolved.directory}`;
  if (
    typeof exported !== 'object' ||
    exported === null ||
    (exported as Record<symbol, unknown>)[MODULE_BRAND] !== true
  ) {
    throw new ModuleNotBrandedError(resolved.entry, pkg);
  }
  const problem = moduleDefinitionProblem(exported);
  if (problem !== undefined) throw new ModuleInvalidDefinitionError(resolved.entry, pkg, problem);
  const module = exported as BackupModule;
  if (resolved.expectedName !== undefined && module.name !== resolved.expectedName) {
    throw new ModuleNameMismatchError(resolved.entry, pkg, resolved.expectedName, module.name);
  }
  if (!SUPPORTED_MODULE_API_VERSIONS.includes(module.apiVersion)) {
    throw new ModuleApiVersionError(module.name, pkg, module.apiVersion, SUPPORTED_MODULE_API_VERSIONS, CORE_VERSION);
  }
  return module;
}
