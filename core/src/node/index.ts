/**
 * @strata/core/node: run a Strata node in-process (what `strata serve` does).
 *
 * ```ts
 * import { StrataNode } from '@strata/core/node';
 * const node = await StrataNode.start({ port: 0 });
 * console.log(node.url);
 * await node.stop();
 * ```
 *
 * @packageDocumentation
 */
// tsyringe needs the Reflect metadata polyfill before it is first imported.
import 'reflect-metadata';

export { type NodeConfig, nodeVariables, readNodeConfig } from './config.js';
export { createLogger, type Logger } from './logger.js';
export { type StartOptions, StrataNode } from './node.js';
