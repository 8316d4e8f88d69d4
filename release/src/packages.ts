import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const root = fileURLToPath(new URL('../../../', import.meta.url));

/** Every package users install, by directory: the published ones and the third-party example. */
export const PUBLISHED = [
  'core',
  'conformance',
  'modules/backup-filesystem',
  'modules/backup-s3',
  'modules/backup-gcs',
  'examples/backup-azure',
] as const;

/** A package as `pnpm pack` made it: the tarball, and the same files unpacked. */
export interface Packed {
  /** The package's directory in the workspace, e.g. `modules/backup-s3`. */
  readonly dir: string;
  readonly tarball: string;
  /** The unpacked tarball: what `npm install` puts in node_modules. */
  readonly contents: string;
}

/** pnpm on PATH, or in npm's global bin folder (where scripts/setup.mjs installs it). */
function pnpm(): string {
  try {
    execFileSync('pnpm', ['--version'], { stdio: 'ignore' });
    return 'pnpm';
  } catch {
    const prefix = execFileSync('npm', ['prefix', '-g'], { encoding: 'utf8' }).trim();
    return join(prefix, 'bin', 'pnpm');
  }
}

/**
 * Packs every published package with pnpm (which turns `workspace:` ranges into versions, as
 * publishing does) into a fresh directory, and unpacks each tarball beside it.
 */
export function packAll(): Packed[] {
  const out = mkdtempSync(join(tmpdir(), 'strata-pack-'));
  const bin = pnpm();
  return PUBLISHED.map((dir) => {
    const before = new Set(readdirSync(out));
    execFileSync(bin, ['pack', '--pack-destination', out], { cwd: join(root, dir), stdio: 'pipe' });
    const name = readdirSync(out).find((file) => file.endsWith('.tgz') && !before.has(file));
    if (name === undefined) throw new Error(`pnpm pack in ${dir} made no tarball`);
    const contents = join(out, name.replace(/\.tgz$/, ''));
    mkdirSync(contents);
    execFileSync('tar', ['-xzf', join(out, name), '-C', contents, '--strip-components=1']);
    if (!existsSync(join(contents, 'package.json'))) throw new Error(`${name} holds no package.json`);
    return { dir, tarball: join(out, name), contents };
  });
}

/** Every file under `dir`, relative, with `/` separators. */
export function filesOf(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) =>
      join(entry.parentPath, entry.name)
        .slice(dir.length + 1)
        .split('\\')
        .join('/'),
    )
    .sort();
}
