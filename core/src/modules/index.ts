/**
 * @strata/core/modules: the module loader. Turns ENABLE_MODULES and each module's environment
 * variables into a registry of working backup backends.
 *
 * @packageDocumentation
 */
// tsyringe needs the Reflect metadata polyfill before it is first imported.
import 'reflect-metadata';

export { parseEnableModules } from './enable-modules.js';
export { type LoadModulesOptions, loadModules } from './load.js';
export type { ConfigEntry, Environment } from './read-config.js';
export { type LoadedModule, ModuleRegistry } from './registry.js';
export { SUPPORTED_MODULE_API_VERSIONS } from './validate.js';
