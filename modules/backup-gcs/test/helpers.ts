import { fileURLToPath } from 'node:url';
import { loadModule } from '@strata/testing';

export { rejection } from '@strata/testing';

/** This package's directory: ENABLE_MODULES takes it as a path. */
export const moduleDir = fileURLToPath(new URL('../../', import.meta.url));

/** Loads backup-gcs as ENABLE_MODULES does, with exactly `env`; returns its backend, meta and logs. */
export const loadGcs = (env: Record<string, string>) => loadModule(moduleDir, env);
