import 'reflect-metadata';
import { fileURLToPath } from 'node:url';
import { loadModule, rejection, startAzurite } from '@strata/testing';
import test from 'ava';

// Every misconfiguration fails with a message that says what to fix.
const moduleDir = fileURLToPath(new URL('../../', import.meta.url));

test('configuration: missing container, no credentials, bad block size and concurrency', async (t) => {
  const missing = await rejection(loadModule(moduleDir, { AZURE_STORAGE_ACCOUNT: 'acct' }));
  t.regex(missing.message, /BACKUP_AZURE_CONTAINER is required/);
  const none = await rejection(loadModule(moduleDir, { BACKUP_AZURE_CONTAINER: 'backups' }));
  t.regex(
    none.message,
    /backup-azure: set AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT \(with AZURE_STORAGE_KEY, or alone for anonymous access to a public container\)/,
  );
  const base = { BACKUP_AZURE_CONTAINER: 'backups', AZURE_STORAGE_ACCOUNT: 'acct' };
  const block = await rejection(loadModule(moduleDir, { ...base, AZURE_BLOCK_SIZE: '5GiB' }));
  t.regex(block.message, /AZURE_BLOCK_SIZE.*expected at most 4000MiB, the largest block Azure takes/);
  const blockWord = await rejection(loadModule(moduleDir, { ...base, AZURE_BLOCK_SIZE: 'big' }));
  t.regex(blockWord.message, /AZURE_BLOCK_SIZE.*expected a size such as 10MiB/);
  const concurrency = await rejection(loadModule(moduleDir, { ...base, AZURE_CONCURRENCY: '0' }));
  t.regex(concurrency.message, /AZURE_CONCURRENCY.*expected a number from 1 to 64/);
});

test('access check: a missing container, a wrong key and an unreachable endpoint say what to check', async (t) => {
  const azurite = await startAzurite({ containers: ['present'] });
  t.teardown(() => azurite.stop());
  const check = async (env: Record<string, string>, scope?: { bucket: string }) => {
    const { backend, close } = await loadModule(moduleDir, env);
    t.teardown(close);
    return rejection(backend.checkAccess(scope === undefined ? {} : { scope }));
  };

  const absent = await check(azurite.env('absent'));
  t.is(absent.code, 'STRATA_AZURE_CONTAINER_NOT_FOUND');
  t.regex(
    absent.message,
    /container "absent" at http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1 does not exist\. Create the container first/,
  );

  const wrongKey = azurite.connectionString.replace(
    /AccountKey=[^;]+/,
    `AccountKey=${Buffer.from('wrong').toString('base64')}`,
  );
  const denied = await check({ BACKUP_AZURE_CONTAINER: 'present', AZURE_STORAGE_CONNECTION_STRING: wrongKey });
  t.is(denied.code, 'STRATA_AZURE_ACCESS_DENIED');
  t.regex(
    denied.message,
    /refused the request \(HTTP 403 AuthorizationFailure\)\. Check the credentials \(AZURE_STORAGE_CONNECTION_STRING\)/,
  );

  const closed = azurite.connectionString.replace(/127\.0\.0\.1:\d+/, '127.0.0.1:9');
  const unreachable = await check({ BACKUP_AZURE_CONTAINER: 'present', AZURE_STORAGE_CONNECTION_STRING: closed });
  t.is(unreachable.code, 'STRATA_AZURE_UNREACHABLE');
  t.regex(
    unreachable.message,
    /cannot reach container "present" at http:\/\/127\.0\.0\.1:9\/devstoreaccount1 \(ECONNREFUSED/,
  );

  const badName = await check(azurite.env('present'), { bucket: 'Not_A_Container' });
  t.regex(badName.message, /"Not_A_Container" is not a container name: use 3 to 63 lowercase letters/);
});
