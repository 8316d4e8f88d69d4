import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import test from 'ava';
import { PUBLISHED, root } from '../src/packages.js';

// `changeset version` on a scratch copy of the repository: the pending changesets release every
// package once, then each later release bumps only the packages it names.

const changeset = join(root, 'node_modules/.bin/changeset');

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8' });
}

/** The tracked files of the working tree, in a fresh repository on branch main (changesets needs it). */
function scratchCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'strata-changesets-'));
  for (const file of git(root, 'ls-files', '-z').split('\0').filter(Boolean)) {
    if (!existsSync(join(root, file))) continue;
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    cpSync(join(root, file), join(dir, file));
  }
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, '-c', 'user.name=t', '-c', 'user.email=t@t', 'add', '-A');
  git(dir, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'scratch');
  return dir;
}

const manifest = (dir: string, pkg: string) => JSON.parse(readFileSync(join(dir, pkg, 'package.json'), 'utf8'));
const versions = (dir: string) =>
  Object.fromEntries(PUBLISHED.map((pkg) => [manifest(dir, pkg).name, manifest(dir, pkg).version]));
const pending = (dir: string) =>
  readdirSync(join(dir, '.changeset')).filter((f) => f.endsWith('.md') && f !== 'README.md');

function version(dir: string): void {
  execFileSync(changeset, ['version'], { cwd: dir, stdio: 'pipe' });
  git(dir, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qam', 'version');
}

test('changeset version releases each package on its own version line, with changelogs', (t) => {
  const dir = scratchCopy();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  t.true(pending(dir).length > 0, 'the repository has pending changesets');

  // The pending changesets: every published package's first release.
  version(dir);
  t.deepEqual(versions(dir), {
    '@strata/core': '1.0.0',
    '@strata/conformance': '1.0.0',
    '@strata/backup-filesystem': '1.0.0',
    '@strata/backup-s3': '1.0.0',
    '@strata/backup-gcs': '1.0.0',
    'strata-backup-azure': '0.0.0',
  });
  t.deepEqual(pending(dir), [], 'changesets are consumed');
  t.regex(
    readFileSync(join(dir, 'core/CHANGELOG.md'), 'utf8'),
    /^# @strata\/core\n\n## 1\.0\.0\n\n### Major Changes\n/,
  );
  t.regex(
    readFileSync(join(dir, 'core/CHANGELOG.md'), 'utf8'),
    /strata backup copy <id> --from <backend> --to <backend>/,
  );
  t.false(existsSync(join(dir, 'examples/backup-azure/CHANGELOG.md')), 'private packages are left alone');
  t.is(manifest(dir, 'examples/quickstart').version, '0.0.0');

  // A core feature: within the providers' peer range (^1.0.0), so only core moves.
  writeFileSync(join(dir, '.changeset/core-feature.md'), '---\n"@strata/core": minor\n---\n\nA feature.\n');
  writeFileSync(join(dir, '.changeset/s3-fix.md'), '---\n"@strata/backup-s3": patch\n---\n\nA fix.\n');
  const status = join(dir, 'status.json');
  execFileSync(changeset, ['status', '--output', status], { cwd: dir, stdio: 'pipe' });
  const releases = (
    JSON.parse(readFileSync(status, 'utf8')).releases as Array<{ name: string; newVersion: string; type: string }>
  )
    .filter((release) => release.type !== 'none')
    .map((release) => `${release.name}@${release.newVersion}`);
  t.deepEqual(releases.sort(), ['@strata/backup-s3@1.0.1', '@strata/core@1.1.0']);
  rmSync(status);
  version(dir);
  t.like(versions(dir), {
    '@strata/core': '1.1.0',
    '@strata/backup-s3': '1.0.1',
    '@strata/backup-gcs': '1.0.0',
    '@strata/backup-filesystem': '1.0.0',
    '@strata/conformance': '1.0.0',
  });
  t.regex(
    readFileSync(join(dir, 'modules/backup-s3/CHANGELOG.md'), 'utf8'),
    /## 1\.0\.1\n\n### Patch Changes\n\n- (?:[0-9a-f]+: )?A fix\./,
  );
  t.is(manifest(dir, 'modules/backup-gcs').peerDependencies['@strata/core'], 'workspace:^');
});
