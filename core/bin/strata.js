#!/usr/bin/env node
// The `strata` command. Everything lives in the compiled CLI; this file only starts it.
import { runCli } from '../dist/src/cli/main.js';

process.exitCode = await runCli(process.argv.slice(2));
