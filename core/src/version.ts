import { createRequire } from 'node:module';

/** The version of the installed @strata/core package (from its package.json). */
export const CORE_VERSION: string = (createRequire(import.meta.url)('../../package.json') as { version: string })
  .version;
