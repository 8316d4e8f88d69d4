import type { BackupBackend, ModuleLogger } from '@strata/core';
import { loadModules } from '@strata/core/modules';

/** Log lines a module wrote, with their fields. */
export type LogLine = { level: string; fields: object; message: string | undefined };

/**
 * Loads the provider package in `moduleDir` as ENABLE_MODULES does, with exactly `env`; returns its
 * backend, meta and logs.
 */
export async function loadModule(moduleDir: string, env: Record<string, string>) {
  const logs: LogLine[] = [];
  const log =
    (level: string) =>
    (fields: object, message?: string): void => {
      logs.push({ level, fields, message });
    };
  const logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
  const registry = await loadModules({
    env: { ENABLE_MODULES: moduleDir, ...env },
    appDir: moduleDir,
    logger: logger satisfies ModuleLogger,
  });
  const [module] = registry.modules;
  if (module === undefined) throw new Error(`${moduleDir} did not load`);
  return { backend: module.backend as BackupBackend, meta: module.meta, logs, close: () => registry.close() };
}

/** The error a promise rejects with (fails when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected a rejection, but the call succeeded');
}
