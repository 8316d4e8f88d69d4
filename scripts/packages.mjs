// The workspace's package directories, as pnpm-workspace.yaml lists them (`dir/*` expanded), in that order.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));

/** The `packages:` entries of pnpm-workspace.yaml: its `  - <pattern>` lines up to the next key. */
function patterns() {
  const lines = readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8').split('\n');
  const start = lines.indexOf('packages:');
  const entries = [];
  for (const line of lines.slice(start + 1)) {
    const match = /^\s+-\s+(\S+)\s*$/.exec(line);
    if (match === null) break;
    entries.push(match[1]);
  }
  return entries;
}

export function workspacePackages() {
  return patterns()
    .flatMap((pattern) => {
      if (!pattern.endsWith('/*')) return [pattern];
      const dir = pattern.slice(0, -2);
      return existsSync(join(root, dir))
        ? readdirSync(join(root, dir))
            .sort()
            .map((name) => `${dir}/${name}`)
        : [];
    })
    .filter((dir) => existsSync(join(root, dir, 'package.json')));
}
