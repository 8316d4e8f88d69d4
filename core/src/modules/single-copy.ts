import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModuleDuplicateDependencyError } from '../errors.js';
import { findPackageDir, type ResolvedPackage } from './resolve.js';

/** Packages that must exist once: two tsyringe copies are two containers, two reflect-metadata copies two registries. */
const SINGLETONS = ['tsyringe', 'reflect-metadata'] as const;

const coreDir = dirname(fileURLToPath(import.meta.url));

/**
 * Refuses a module that would load its own copy of tsyringe or reflect-metadata rather than core's.
 * Checked before the module is imported, by resolving each package from the module's directory and
 * from core's, as Node would.
 */
export function assertSharedSingletons(resolved: ResolvedPackage): void {
  for (const dependency of SINGLETONS) {
    const moduleCopy = findPackageDir(dependency, resolved.directory);
    if (moduleCopy === undefined) continue;
    const coreCopy = findPackageDir(dependency, coreDir);
    if (moduleCopy !== coreCopy) {
      throw new ModuleDuplicateDependencyError(
        resolved.entry,
        resolved.packageName,
        dependency,
        moduleCopy,
        coreCopy ?? 'not found',
      );
    }
  }
}
