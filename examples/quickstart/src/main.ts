// The README's main command (`npm run quickstart`): a Strata node on embedded defaults, with the
// filesystem backup provider enabled; a sample dataset imported over its REST API, backed up while
// writes go on, lost, restored and compared object by object.
import { createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, StrataNode } from '@strata/core/node';

const appDir = fileURLToPath(new URL('../../', import.meta.url));
const workDir = resolve(appDir, '../../.quickstart');

/** Embedded defaults; anything already set in the environment wins. */
const env = {
  ENABLE_MODULES: 'backup-filesystem',
  PERSISTENCE_DATA_PATH: resolve(workDir, 'data'),
  BACKUP_FILESYSTEM_PATH: resolve(workDir, 'backups'),
  ...process.env,
};

const ARTICLES = 1000;
const BATCH = 200;
const topics = ['storage', 'backups', 'databases', 'compaction', 'replication', 'durability'];

const ok = (text: string) => console.log(`✔ ${text}`);

/** A deterministic sample article. */
function article(i: number) {
  const topic = topics[i % topics.length] as string;
  return {
    class: 'Article',
    properties: {
      title: `Notes on ${topic}, part ${i + 1}`,
      wordCount: 300 + ((i * 37) % 1700),
      published: new Date(Date.UTC(2026, 0, 1 + (i % 300))).toISOString(),
      tags: [topic, i % 2 === 0 ? 'even' : 'odd'],
    },
  };
}

/** A progress line: redrawn in place on a terminal, at each quarter otherwise. */
function progress(label: string, format: (n: number) => string = String): (done: number, total: number) => void {
  let shown = -1;
  return (done, total) => {
    const ratio = total === 0 ? 0 : done / total;
    const line = `  ${label} [${'█'.repeat(Math.round(ratio * 24)).padEnd(24, '░')}] ${format(done)}/${format(total)}`;
    if (process.stdout.isTTY) process.stdout.write(`\r${line}${done === total ? '\n' : ''}`);
    else if (Math.floor(ratio * 4) > shown) {
      shown = Math.floor(ratio * 4);
      console.log(line);
    }
  };
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;

// biome-ignore lint/suspicious/noExplicitAny: the example reads JSON replies field by field.
async function api(url: string, method: string, path: string, body?: unknown): Promise<any> {
  const response = await fetch(`${url}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return text === '' ? undefined : JSON.parse(text);
}

/** Every Article, as JSON text by id, read page by page with the `after` cursor. */
async function readAll(url: string): Promise<Map<string, string>> {
  const objects = new Map<string, string>();
  for (let after: string | undefined; ; ) {
    const page = await api(
      url,
      'GET',
      `/v1/objects?class=Article&limit=500${after === undefined ? '' : `&after=${after}`}`,
    );
    if (page.objects.length === 0) return objects;
    for (const object of page.objects) objects.set(object.id, JSON.stringify(object));
    after = page.objects[page.objects.length - 1].id;
  }
}

/** Polls a backup or restore until it finishes, drawing its byte progress; `total` if known. */
async function follow(
  url: string,
  path: string,
  report: (done: number, total: number) => void,
  total = 0,
  // biome-ignore lint/suspicious/noExplicitAny: the example reads JSON replies field by field.
): Promise<any> {
  for (;;) {
    const status = await api(url, 'GET', path);
    if (['SUCCESS', 'FAILED', 'CANCELED'].includes(status.status)) {
      if (status.status === 'SUCCESS' && total > 0) report(total, total);
      return status;
    }
    if (status.progress?.totalBytes > 0) {
      total = status.progress.totalBytes;
      report(status.progress.doneBytes, total);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function main(): Promise<void> {
  console.log('Strata quickstart: a node on embedded defaults; import, back up, lose, restore\n');
  rmSync(env.PERSISTENCE_DATA_PATH, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  const log = resolve(workDir, 'node.log');
  const node = await StrataNode.start({ env, appDir, port: 0, logger: createLogger('info', createWriteStream(log)) });
  try {
    ok(`node ${node.config.hostname} listening on ${node.url} (data in ${node.config.dataPath}, log in ${log})`);
    for (const module of node.modules.modules)
      ok(`module ${module.name} ${module.version} loaded, backups go to ${String(module.meta.backupsPath)}`);

    const created = await api(node.url, 'POST', '/v1/schema', {
      class: 'Article',
      properties: [
        { name: 'title', dataType: ['text'] },
        { name: 'wordCount', dataType: ['int'] },
        { name: 'published', dataType: ['date'] },
        { name: 'tags', dataType: ['text[]'] },
      ],
      shardingConfig: { desiredCount: 3 },
    });
    ok(`created class ${created.class} with ${created.shardingConfig.desiredCount} shards`);

    const report = progress('importing articles');
    const started = performance.now();
    for (let i = 0; i < ARTICLES; i += BATCH) {
      const results = await api(node.url, 'POST', '/v1/batch/objects', {
        objects: Array.from({ length: Math.min(BATCH, ARTICLES - i) }, (_, j) => article(i + j)),
      });
      const failed = results.filter((r: { result: { status: string } }) => r.result.status !== 'SUCCESS');
      if (failed.length > 0) throw new Error(`${failed.length} objects failed: ${JSON.stringify(failed[0].result)}`);
      report(i + results.length, ARTICLES);
    }
    const seconds = (performance.now() - started) / 1000;
    ok(`imported ${ARTICLES} articles in ${seconds.toFixed(2)} s (${Math.round(ARTICLES / seconds)} objects/s)`);

    const page = await api(node.url, 'GET', '/v1/objects?class=Article&limit=3');
    ok(`read the first ${page.objects.length} articles in id order:`);
    for (const object of page.objects)
      console.log(`    ${object.id}  ${object.properties.title} (${object.properties.wordCount} words)`);
    const one = await api(node.url, 'GET', `/v1/objects/Article/${page.objects[0].id}`);
    ok(`fetched ${one.id} by id: "${one.properties.title}", tags ${one.properties.tags.join(', ')}`);

    let count = 0;
    for (let after: string | undefined; ; ) {
      const next = await api(
        node.url,
        'GET',
        `/v1/objects?class=Article&limit=250${after === undefined ? '' : `&after=${after}`}`,
      );
      if (next.objects.length === 0) break;
      count += next.objects.length;
      after = next.objects[next.objects.length - 1].id;
    }
    ok(`paged through all ${count} articles with the 'after' cursor`);
    const before = await readAll(node.url);

    // A backup runs in the background: writes keep going while it uploads.
    const id = `quickstart-${Date.now()}`;
    await api(node.url, 'POST', '/v1/schema', { class: 'Draft', properties: [{ name: 'note', dataType: ['text'] }] });
    let writing = true;
    const writes = { done: 0, failed: 0 };
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        const reply = await fetch(`${node.url}/v1/objects`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ class: 'Draft', properties: { note: `written during the backup, #${i}` } }),
        });
        await reply.arrayBuffer();
        if (reply.ok) writes.done++;
        else writes.failed++;
      }
    })();
    const backup = await api(node.url, 'POST', '/v1/backups/filesystem', { id, include: ['Article'] });
    ok(`backup ${backup.id} ${backup.status} for ${backup.classes.join(', ')}, to ${backup.path}`);
    const backedUp = await follow(node.url, `/v1/backups/filesystem/${id}`, progress('backing up', kib));
    writing = false;
    await writer;
    if (backedUp.status !== 'SUCCESS') throw new Error(`backup ${backedUp.status}: ${backedUp.error}`);
    ok(
      `backup SUCCESS: ${(backedUp.size * 1024 * 1024).toFixed(0)} KiB of files; ${writes.done} writes went on meanwhile, ${writes.failed} failed`,
    );

    await api(node.url, 'DELETE', '/v1/schema/Article');
    ok('deleted class Article: its 1000 objects are gone');
    const restore = await api(node.url, 'POST', `/v1/backups/filesystem/${id}/restore`, {});
    ok(`restore ${restore.status} for ${restore.classes.join(', ')}`);
    const bytes = Math.round(backedUp.size * 1024 ** 3); // status sizes are in GiB, as in Weaviate
    const restored = await follow(node.url, `/v1/backups/filesystem/${id}/restore`, progress('restoring', kib), bytes);
    if (restored.status !== 'SUCCESS') throw new Error(`restore ${restored.status}: ${restored.error}`);
    const after = await readAll(node.url);
    const same = after.size === before.size && [...before].every(([key, value]) => after.get(key) === value);
    if (!same) throw new Error(`the restored class differs: ${after.size} objects, ${before.size} expected`);
    ok(`restore SUCCESS: all ${after.size} articles are back, every object identical (checksums verified)`);
    console.log(
      `\nNext: \`pnpm strata serve\` runs a node you keep; \`pnpm strata backup --help\` drives backups; the API is in docs/api.md.`,
    );
  } finally {
    await node.stop();
  }
}

main().catch((error: unknown) => {
  console.error(`quickstart failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
