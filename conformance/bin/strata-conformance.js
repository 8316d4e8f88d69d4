#!/usr/bin/env node
// tsyringe needs the Reflect metadata polyfill before it is first imported.
import 'reflect-metadata';
import { main } from '../dist/src/cli.js';

process.exitCode = await main(process.argv.slice(2));
// A backend call that never returned may still hold a socket or a timer open. The report is written:
// end now rather than wait on it.
setTimeout(() => process.exit(), 1000).unref();
