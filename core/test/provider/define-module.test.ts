import test from 'ava';
import { BACKUP_BACKEND, defineBackupModule, MODULE_API_VERSION, MODULE_BRAND } from '../../src/index.js';

const valid = {
  name: 'backup-example',
  altNames: ['example'],
  apiVersion: MODULE_API_VERSION,
  capabilities: { external: true },
  config: { bucket: { name: 'BACKUP_EXAMPLE_BUCKET', required: true, description: 'The bucket.' } },
  register() {},
} as const;

test('defineBackupModule brands the definition with a global symbol and freezes it', (t) => {
  const module = defineBackupModule(valid);
  t.is(module[MODULE_BRAND], true);
  t.is(MODULE_BRAND as symbol, Symbol.for('strata.backup-module'));
  t.true(Object.isFrozen(module));
  t.is(module.name, 'backup-example');
  t.is(BACKUP_BACKEND, 'strata:BackupBackend');
});

const malformed: ReadonlyArray<[string, Record<string, unknown>, string]> = [
  ['an upper-case name', { name: 'Backup-X' }, '"name" must be lower-case words joined by "-"'],
  ['a bad alt name', { altNames: ['S 3'] }, '"altNames" must be an array of names'],
  ['a fractional apiVersion', { apiVersion: 1.5 }, '"apiVersion" must be an integer'],
  ['no capabilities', { capabilities: undefined }, '"capabilities.external" must be true or false'],
  [
    'an unknown pathScope',
    { capabilities: { external: true, pathScope: 'bucket' } },
    '"capabilities.pathScope" must be "prefix", "directory" or left out',
  ],
  ['no register', { register: undefined }, '"register" must be a function'],
  ['a non-function meta', { meta: 'x' }, '"meta" must be a function'],
  [
    'a bad variable name',
    { config: { x: { name: 'NOT-A-NAME', description: 'd' } } },
    'config.x.name must be an environment variable name',
  ],
  ['a variable without description', { config: { x: { name: 'X' } } }, 'config.x.description must be a sentence'],
  [
    'a non-function parser',
    { config: { x: { name: 'X', description: 'd', parse: 1 } } },
    'config.x.parse must be a function',
  ],
  [
    'bad fallbacks',
    { config: { x: { name: 'X', description: 'd', fallbacks: ['a b'] } } },
    'config.x.fallbacks must be an array',
  ],
  [
    'a secret whose key no redaction path can name',
    { config: { 'api-key': { name: 'X', description: 'd', secret: true } } },
    'config.api-key is secret, so its key must be an identifier',
  ],
];

test('a variable that is not secret may have any key', (t) => {
  const config = { 'not-secret': { name: 'X', description: 'd' } };
  t.notThrows(() => defineBackupModule({ ...valid, config }));
});

for (const [title, change, message] of malformed) {
  test(`defineBackupModule throws a TypeError for ${title}`, (t) => {
    const error = t.throws(() => defineBackupModule({ ...valid, ...change } as never), { instanceOf: TypeError });
    t.true(error?.message.startsWith(`defineBackupModule: ${message}`), error?.message);
  });
}
