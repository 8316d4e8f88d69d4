import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import test from 'ava';

const sources = fileURLToPath(new URL('../../src/', import.meta.url));

// core's backup/home.ts owns the layout of a backup's keys; a suite that spelt it out would test its
// own idea of the layout, and break (or pass wrongly) when core's changes.
const layout = ['chunk-', 'backup_config.json', 'restore_config.json', 'backup.json'];

test("the suite finds a backup's chunks through core's BackupHome, never by spelling out keys", async (t) => {
  const files = (await readdir(sources, { recursive: true })).filter((file) => file.endsWith('.ts'));
  t.true(files.includes('checks/journey.ts'), `sources read from ${sources}`);
  for (const file of files) {
    const text = await readFile(`${sources}${file}`, 'utf8');
    for (const part of layout) t.false(text.includes(part), `src/${file} spells "${part}"`);
  }
});
