// Removes every package's build output. `tsc -b` trusts its .tsbuildinfo, so deleting files from
// dist/ by hand is not enough to make it emit them again.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { root, workspacePackages } from './packages.mjs';

const packages = workspacePackages();
for (const dir of packages) rmSync(join(root, dir, 'dist'), { recursive: true, force: true });
console.log(`removed dist/ of ${packages.length} packages`);
