import 'reflect-metadata';
import { assertNoMarker, type S3Server, showSecrets, startS3Server, startupFailure } from '@strata/testing';
import anyTest, { type TestFn } from 'ava';
import { moduleDir } from './helpers.js';

// Every secret variable of backup-s3 set to a marker: finding one anywhere means it leaked.
const KEY_ID = 'AKIAMARKERKEYID73QF';
const SECRET = 'marker-s3-secret-access-key-b71e';
const TOKEN = 'marker-s3-session-token-90ac';

const test = anyTest as TestFn<{ server: S3Server }>;

test.before(async (t) => {
  // s3rver accepts the marker key id; it never checks a SigV4 signature, so the marker secret works.
  t.context.server = await startS3Server({
    buckets: ['backups'],
    credentials: { accessKeyId: KEY_ID, secretAccessKey: SECRET },
  });
});
test.after.always((t) => t.context.server.stop());

test('static keys with a session token: a backup and restore show no secret in logs, /v1/meta or strata modules', async (t) => {
  const env = { ...t.context.server.env('backups'), AWS_SESSION_TOKEN: TOKEN };
  const shown = await showSecrets(t, { moduleDir, env }, 's3');
  t.is(shown.backup, 'SUCCESS');
  t.like(shown.loadedConfig, { accessKeyId: '***', secretAccessKey: '***', sessionToken: '***', bucket: 'backups' });
  assertNoMarker(t, shown.text, [KEY_ID, SECRET, TOKEN]);
});

test('a key id S3 refuses, which it echoes in its error, shows no secret either', async (t) => {
  const refused = 'AKIAMARKERREFUSED4X';
  const { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, ...env } = t.context.server.env('backups');
  // Weaviate's alternative names: redaction covers every name a secret is read under.
  const run = { moduleDir, env: { ...env, AWS_ACCESS_KEY: refused, AWS_SECRET_KEY: SECRET, AWS_SESSION_TOKEN: TOKEN } };
  const shown = await showSecrets(t, run, 's3');
  t.is(shown.backup, '500', 'the access check refuses the backup at creation');
  t.true(shown.text.includes('InvalidAccessKeyId'), 'the refusal is reported');
  assertNoMarker(t, shown.text, [refused, SECRET, TOKEN]);
});

test('a secret access key without its key id is refused at start-up without showing it', async (t) => {
  const run = {
    moduleDir,
    env: { BACKUP_S3_BUCKET: 'backups', AWS_SECRET_ACCESS_KEY: SECRET, AWS_SESSION_TOKEN: TOKEN },
  };
  const { message, text } = await startupFailure(run);
  t.true(message.includes('AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not'), message);
  assertNoMarker(t, text, [SECRET, TOKEN]);
});
