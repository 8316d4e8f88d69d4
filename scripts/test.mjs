// `npm test` after set-up: lint and format check (Biome), `changeset status`, build (tsc -b), then every package's ava
// suite, one package at a time. Ends with the line CI reads: `N passed, N failed, N skipped`.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { root, workspacePackages } from './packages.mjs';

const bin = (dir, name) => join(dir, 'node_modules', '.bin', name);
const totals = { passed: 0, failed: 0, skipped: 0 };

function finish() {
  console.log(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
  process.exit(totals.failed > 0 ? 1 : 0);
}

function step(title, command, args) {
  console.log(`\n== ${title}`);
  return spawnSync(command, args, { cwd: root, stdio: 'inherit' }).status === 0;
}

/** Workspace packages that have tests (an "ava" section in package.json), in build order. */
function testedPackages() {
  return workspacePackages().filter((dir) => JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')).ava);
}

/** Runs one package's ava suite with TAP output, echoing it and adding its counts to the totals. */
function runAva(dir) {
  return new Promise((resolve) => {
    console.log(`\n== ${dir}`);
    const child = spawn(bin(join(root, dir), 'ava'), ['--tap'], {
      cwd: join(root, dir),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const counts = { pass: 0, fail: 0, skip: 0, todo: 0 };
    let buffered = '';
    child.stdout.on('data', (data) => {
      process.stdout.write(data);
      buffered += data;
    });
    child.on('close', (code) => {
      for (const [, key, value] of buffered.matchAll(/^# (pass|fail|skip|todo) (\d+)$/gm)) counts[key] = Number(value);
      totals.passed += counts.pass;
      totals.skipped += counts.skip + counts.todo;
      // A crash that reported no failing test still fails the run.
      totals.failed += code !== 0 && counts.fail === 0 ? 1 : counts.fail;
      resolve();
    });
  });
}

const linted = step('lint and format (biome ci)', bin(root, 'biome'), ['ci', '--colors=off', '.']);
if (!linted) totals.failed += 1;
// Fails on a changeset naming an unknown package or bump; on a branch, also on a changed package without one.
if (!step('pending releases (changeset status)', bin(root, 'changeset'), ['status'])) totals.failed += 1;
if (!step('build (tsc -b)', bin(root, 'tsc'), ['-b'])) {
  totals.failed += 1;
  finish();
}
for (const dir of testedPackages()) await runAva(dir);
finish();
