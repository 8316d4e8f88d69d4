import 'reflect-metadata';
import { fileURLToPath } from 'node:url';
import { assertNoMarker, showSecrets, startAzurite, startupFailure } from '@strata/testing';
import test from 'ava';

// How a provider's author proves that its secrets never show: set each secret variable to a marker,
// run the module in a node at trace level, and look for the markers in everything a user can see.
const moduleDir = fileURLToPath(new URL('../../', import.meta.url));
const account = { name: 'strataaccount', key: Buffer.from('strata-marker-azure-account-key').toString('base64') };
const otherKey = Buffer.from('strata-marker-azure-wrong-key').toString('base64');

test('a connection string and a key: a backup and restore show neither in logs, /v1/meta or strata modules', async (t) => {
  const azurite = await startAzurite({ containers: ['backups'], account });
  t.teardown(() => azurite.stop());
  const env = { ...azurite.env('backups'), AZURE_STORAGE_KEY: account.key };
  const shown = await showSecrets(t, { moduleDir, env }, 'azure');
  t.is(shown.backup, 'SUCCESS');
  t.like(shown.loadedConfig, { connectionString: '***', key: '***', container: 'backups' });
  assertNoMarker(t, shown.text, [azurite.connectionString, account.key]);
});

test('a key the account refuses shows no secret in the errors it causes', async (t) => {
  const azurite = await startAzurite({ containers: ['backups'], account });
  t.teardown(() => azurite.stop());
  const connectionString = azurite.connectionString.replace(account.key, otherKey);
  const env = { BACKUP_AZURE_CONTAINER: 'backups', AZURE_STORAGE_CONNECTION_STRING: connectionString };
  const shown = await showSecrets(t, { moduleDir, env }, 'azure');
  t.not(shown.backup, 'SUCCESS');
  t.true(shown.text.includes('refused the request'), 'the refusal is reported');
  assertNoMarker(t, shown.text, [connectionString, otherKey]);
});

test('a connection string that does not parse, or a key without an account, is refused without showing it', async (t) => {
  const garbled = `AccountKey=${account.key};BlobEndpoint=not a url`;
  const unparsed = await startupFailure({
    moduleDir,
    env: { BACKUP_AZURE_CONTAINER: 'backups', AZURE_STORAGE_CONNECTION_STRING: garbled },
  });
  t.true(unparsed.message.includes('module "backup-azure" failed to start'), unparsed.message);
  assertNoMarker(t, unparsed.text, [garbled, account.key]);

  const keyAlone = await startupFailure({
    moduleDir,
    env: { BACKUP_AZURE_CONTAINER: 'backups', AZURE_STORAGE_KEY: account.key },
  });
  t.true(keyAlone.message.includes('set AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT'), keyAlone.message);
  assertNoMarker(t, keyAlone.text, [account.key]);
});
