/**
 * The peer of bench:gcs: Google's client library used directly, the way a script copying a directory
 * to GCS would use it. `bucket.upload()` and `file.download()` with the library's defaults (resumable
 * uploads in one request, CRC32C checks), 10 files at once as `aws s3 cp` does, anonymous requests
 * to the emulator.
 *
 * Usage (BENCH_GCS_ENDPOINT and BENCH_GCS_BUCKET set):
 *   node gcs-peer.js up <dir> <prefix>     every file under dir to prefix/<relative path>
 *   node gcs-peer.js down <prefix> <dir>   every object under prefix into dir
 *   node gcs-peer.js put <file> <name>     one file
 *   node gcs-peer.js get <name>            one object, printing its SHA-256
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Storage } from '@google-cloud/storage';
import { PassThroughClient } from 'google-auth-library';
import { eachAtOnce } from './at-once.js';

const storage = new Storage({
  apiEndpoint: process.env.BENCH_GCS_ENDPOINT,
  projectId: 'bench',
  authClient: new PassThroughClient(),
});
const bucket = storage.bucket(process.env.BENCH_GCS_BUCKET ?? 'bench');

const [command, from = '', to = ''] = process.argv.slice(2);
if (command === 'up') {
  const entries = await readdir(from, { recursive: true, withFileTypes: true });
  const files = entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
  await eachAtOnce(files, (file) => bucket.upload(file, { destination: `${to}/${relative(from, file)}` }));
} else if (command === 'down') {
  const [objects] = await bucket.getFiles({ prefix: `${from}/` });
  await eachAtOnce(objects, async (object) => {
    const destination = join(to, object.name.slice(from.length + 1));
    await mkdir(dirname(destination), { recursive: true });
    await object.download({ destination });
  });
} else if (command === 'put') {
  await bucket.upload(from, { destination: to });
} else if (command === 'get') {
  const hash = createHash('sha256');
  await pipeline(bucket.file(from).createReadStream(), hash);
  console.log(hash.digest('hex'));
} else {
  throw new Error(`unknown command ${command}: use up, down, put or get`);
}
