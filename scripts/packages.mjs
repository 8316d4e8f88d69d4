// The workspace's package directories, as pnpm-workspace.yaml lists them, in build order.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));

export function workspacePackages() {
  const nested = ['modules', 'examples'].flatMap((dir) =>
    existsSync(join(root, dir))
      ? readdirSync(join(root, dir))
          .sort()
          .map((name) => `${dir}/${name}`)
      : [],
  );
  return ['core', 'conformance', 'testing', ...nested].filter((dir) => existsSync(join(root, dir, 'package.json')));
}
