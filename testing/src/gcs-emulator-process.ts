/**
 * Entry point of the process {@link startGcsEmulator} spawns: the Cloud Storage emulator of
 * firebase-tools, used as a library, behind a front that adds the bucket calls it lacks, serves
 * resumable uploads as GCS does (gcs-resumable-uploads.ts) and streams downloads from disk
 * (gcs-media-downloads.ts). Own process,
 * so its buffers never count in a test's memory figures.
 *
 * Usage: `node gcs-emulator-process.js <project id> [bucket...]`, with TMPDIR set to a directory of its
 * own (the emulator keeps object bytes under `$TMPDIR/firebase`, and would share it with any other
 * instance). Prints `GCS emulator listening on 127.0.0.1:<port>` once it accepts requests.
 */
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { type MediaEmulator, mediaDownloads } from './gcs-media-downloads.js';
import { resumableUploads, type UploadEmulator } from './gcs-resumable-uploads.js';
import { listen } from './process.js';

const require = createRequire(import.meta.url);
const firebase = (path: string) => require(`firebase-tools/lib/emulator/${path}`);

/** The parts of the emulator this process touches (firebase-tools ships no types for them). */
interface Emulator extends UploadEmulator {
  readonly adminStorageLayer: UploadEmulator['adminStorageLayer'] & MediaEmulator['adminStorageLayer'];
  _rulesRuntime: { start(): Promise<void>; stop(): Promise<void> };
  _rulesManager: { start(): Promise<unknown>; stop(): Promise<void>; getRuleset(): undefined };
}

const [projectId = 'strata-test', ...initial] = process.argv.slice(2);
const buckets = new Set(initial);

/** Answers with a JSON API error, shaped as Google's so the client library maps it. */
function sendError(res: ServerResponse, code: number, reason: string, message: string): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: { code, message, errors: [{ reason, domain: 'global', message }] } }));
}

function bucketResource(name: string) {
  return { kind: 'storage#bucket', id: name, name, projectNumber: '0', location: 'US', storageClass: 'STANDARD' };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<{ name?: unknown }> {
  let text = '';
  for await (const chunk of req) text += String(chunk);
  try {
    return JSON.parse(text) as { name?: unknown };
  } catch {
    return {};
  }
}

/**
 * The bucket calls the emulator lacks (it creates any bucket a request names): create (409 on a
 * duplicate), get, delete and list, and 404 for a request naming a bucket never created, as GCS
 * answers. Returns false for the requests the emulator serves.
 */
function bucketCalls(req: IncomingMessage, res: ServerResponse): boolean {
  const { pathname } = new URL(req.url ?? '/', 'http://gcs');
  if (pathname === '/storage/v1/b' || pathname === '/b') {
    if (req.method === 'GET') {
      sendJson(res, 200, { kind: 'storage#buckets', items: [...buckets].sort().map(bucketResource) });
      return true;
    }
    if (req.method === 'POST') {
      void readJson(req).then(({ name }) => {
        if (typeof name !== 'string' || name === '') return sendError(res, 400, 'required', 'Required: name');
        if (buckets.has(name)) {
          return sendError(
            res,
            409,
            'conflict',
            'Your previous request to create the named bucket succeeded and you already own it.',
          );
        }
        buckets.add(name);
        sendJson(res, 200, bucketResource(name));
      });
      return true;
    }
  }
  const named = /^(?:\/upload|\/download)?(?:\/storage\/v1)?\/b\/([^/]+)(\/.*)?$/.exec(pathname);
  if (named === null) return false;
  const bucket = decodeURIComponent(named[1] ?? '');
  if (!buckets.has(bucket)) {
    req.resume();
    sendError(res, 404, 'notFound', 'The specified bucket does not exist.');
    return true;
  }
  if (named[2] !== undefined) return false;
  req.resume();
  if (req.method === 'GET') sendJson(res, 200, bucketResource(bucket));
  else if (req.method === 'DELETE') {
    buckets.delete(bucket);
    res.writeHead(204).end();
  } else sendError(res, 405, 'methodNotAllowed', `${req.method} is not supported on a bucket`);
  return true;
}

const { StorageEmulator } = firebase('storage/index.js');
const emulator = new StorageEmulator({ projectId, host: '127.0.0.1', port: 0, auto_download: false }) as Emulator;
// The rules runtime is a Java process; the JSON API (the admin storage layer) never evaluates rules.
emulator._rulesRuntime = { start: async () => {}, stop: async () => {} };
emulator._rulesManager = { start: async () => [], stop: async () => {}, getRuleset: () => undefined };
const app = (await firebase('storage/server.js').createApp(projectId, emulator)) as RequestListener;
const { CloudStorageObjectMetadata } = firebase('storage/metadata.js');
const uploads = resumableUploads(emulator, (metadata) => new CloudStorageObjectMetadata(metadata));
const downloads = mediaDownloads(emulator, firebase('storage/crc.js').crc32cToString);
const server = createServer((req, res) => {
  if (!bucketCalls(req, res) && !uploads(req, res) && !downloads(req, res)) app(req, res);
});
const { port } = await listen(server);
// Object metadata carries self and media links built from the registered host and port.
firebase('registry.js').EmulatorRegistry.set('storage', {
  getInfo: () => ({ name: 'storage', host: '127.0.0.1', port }),
});
console.log(`GCS emulator listening on 127.0.0.1:${port}`);
