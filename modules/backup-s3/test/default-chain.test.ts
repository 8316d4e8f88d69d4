import { startS3Server } from '@strata/testing';
import test from 'ava';
import { loadS3, rejection } from './helpers.js';

// The SDK's default chain reads this process's environment (the module's own variables come from the
// env given to the loader): make it find nothing, quickly, whatever the machine running the tests has.
for (const name of Object.keys(process.env)) if (name.startsWith('AWS_')) delete process.env[name];
Object.assign(process.env, {
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_CONFIG_FILE: '/nonexistent/strata-test-aws-config',
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/strata-test-aws-credentials',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
});

test.serial(
  'without keys and with no source in the default chain, the check says how to give credentials',
  async (t) => {
    const server = await startS3Server({ buckets: ['chain'] });
    t.teardown(() => server.stop());
    const { backend, close } = await loadS3({ BACKUP_S3_BUCKET: 'chain', BACKUP_S3_ENDPOINT: server.endpoint });
    t.teardown(close);
    const error = await rejection(backend.checkAccess());
    t.is(error.code, 'STRATA_S3_NO_CREDENTIALS');
    t.true(error.message.startsWith(`backup-s3: no AWS credentials found for bucket "chain" at ${server.endpoint}`));
    t.true(error.message.includes('Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give the node a role'));
  },
);

test.serial('keys found by the default chain are used, and the log says which source gave them', async (t) => {
  const server = await startS3Server({ buckets: ['chain'] });
  t.teardown(() => server.stop());
  process.env.AWS_ACCESS_KEY_ID = server.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = server.secretAccessKey;
  t.teardown(() => {
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
  });
  const { backend, logs, close } = await loadS3({ BACKUP_S3_BUCKET: 'chain', BACKUP_S3_ENDPOINT: server.endpoint });
  t.teardown(close);
  await backend.checkAccess();
  t.true(
    logs.some(
      (line) => line.message === 'backup-s3 signs requests with the AWS SDK default chain: environment variables',
    ),
    JSON.stringify(logs),
  );
});
