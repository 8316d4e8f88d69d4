import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import test from 'ava';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { filesOf, packAll } from '../src/packages.js';

// What `pnpm publish` would upload, checked as a registry user would receive it.
const packed = packAll();
const attw = join(dirname(new URL(import.meta.url).pathname), '../../node_modules/.bin/attw');

/** What a package may ship: its manifest, docs, built code and the sources its maps point at. */
const ALLOWED =
  /^(package\.json|README\.md|CHANGELOG\.md|LICENSE|bin\/[^/]+\.js|dist\/src\/.+\.(js|d\.ts|js\.map|d\.ts\.map)|src\/.+\.ts)$/;

for (const pkg of packed) {
  const manifest = JSON.parse(readFileSync(join(pkg.contents, 'package.json'), 'utf8'));

  test(`${pkg.dir}: publint finds nothing to fix`, async (t) => {
    const { messages } = await publint({ pkgDir: pkg.contents, pack: false, strict: true });
    const shown = messages.map((message) => `${message.type}: ${formatMessage(message, manifest) ?? message.code}`);
    t.deepEqual(shown, [], `publint on ${pkg.dir}`);
  });

  test(`${pkg.dir}: are-the-types-wrong finds no problem for an ESM-only package`, async (t) => {
    const result = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(attw, [pkg.tarball, '--profile', 'esm-only', '--format', 'ascii', '--no-color'], (error, out, err) =>
        resolve({ code: error === null ? 0 : Number(error.code), output: out + err }),
      );
    });
    t.is(result.code, 0, result.output);
  });

  test(`${pkg.dir}: the tarball holds only what users need, and its maps point at files it holds`, (t) => {
    const files = filesOf(pkg.contents);
    t.deepEqual(
      files.filter((file) => !ALLOWED.test(file)),
      [],
      'only package.json, README, CHANGELOG, bin/, dist/src and src/ belong in a tarball (no tests, no tsbuildinfo)',
    );
    t.true(files.includes('README.md'), 'a README');
    t.true(
      files.some((file) => file.startsWith('dist/src/') && file.endsWith('.d.ts')),
      'type declarations',
    );
    // tsc -b never deletes what it built from a source since removed; such leftovers must not ship.
    const stale = files
      .filter((file) => /^dist\/src\/.+\.js$/.test(file))
      .filter((file) => !files.includes(file.replace(/^dist\//, '').replace(/\.js$/, '.ts')));
    t.deepEqual(stale, [], 'built files whose source is gone: run `pnpm clean && pnpm build` before packing');
    for (const map of files.filter((file) => file.endsWith('.map'))) {
      const { sources } = JSON.parse(readFileSync(join(pkg.contents, map), 'utf8')) as { sources: string[] };
      for (const source of sources) {
        t.true(existsSync(join(pkg.contents, dirname(map), source)), `${map} points at ${source}, not in the tarball`);
      }
    }
  });

  test(`${pkg.dir}: its package.json has versions for every dependency, and a repository`, (t) => {
    const ranges = ['dependencies', 'peerDependencies', 'optionalDependencies'].flatMap((field) =>
      Object.entries((manifest[field] ?? {}) as Record<string, string>).map(([name, range]) => `${name}@${range}`),
    );
    t.deepEqual(
      ranges.filter((range) => range.includes('workspace:')),
      [],
      'workspace: ranges must be replaced when packing',
    );
    t.is(typeof manifest.repository?.url, 'string');
  });
}
