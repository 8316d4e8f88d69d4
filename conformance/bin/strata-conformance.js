#!/usr/bin/env node
// tsyringe needs the Reflect metadata polyfill before it is first imported.
import 'reflect-metadata';
import { main } from '../dist/src/cli.js';

process.exitCode = await main(process.argv.slice(2));
