import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BackupBackend } from '@strata/core';
import type { BackupHome } from '@strata/core/backup';
import { createLogger, StrataNode } from '@strata/core/node';
import { type CheckClock, currentClock, watchInPlace } from '../deadline.js';
import { type ConformanceAssertions, type ConformanceTest, collect, streamOf } from '../harness.js';
import { type Json, type NodeApi, nodeApi } from '../node-api.js';
import type { Subject } from '../subject.js';
import { type JourneyBackup, journeyBackup } from './journey-backup.js';

/**
 * The journey: a real Strata node, in this process, with the module enabled as `ENABLE_MODULES`
 * enables it, driven through its REST API as a user would.
 */

interface Journey extends JourneyBackup {
  readonly node: StrataNode;
  /** The check's deadline: the journey's polling stops at it. */
  readonly clock: CheckClock;
  call: NodeApi['call'];
  finished: NodeApi['finished'];
}

async function startJourney(t: ConformanceAssertions, subject: Subject): Promise<Journey> {
  const clock = currentClock();
  if (clock === undefined) throw new TypeError('a journey runs as a check of describeBackendConformance');
  const dataPath = await mkdtemp(join(tmpdir(), 'strata-conformance-node-'));
  const { options } = subject;
  const node = await StrataNode.start({
    env: { ...(options.env ?? process.env), ENABLE_MODULES: options.module, PERSISTENCE_DATA_PATH: dataPath },
    ...(options.appDir === undefined ? {} : { appDir: options.appDir }),
    ...(options.container === undefined ? {} : { container: options.container }),
    port: 0,
    logger: createLogger('silent'),
  });
  // The node's calls of its own backend are what a backup or restore waits on: a deadline names them.
  watchInPlace(node.modules.backend(subject.name), clock);
  // Registered first, so it runs last: the objects go even if the node hangs.
  const backup = journeyBackup(t, subject, 'journey');
  t.teardown(async () => {
    await node.stop();
    await rm(dataPath, { recursive: true, force: true });
  });
  const api = nodeApi(node.url, clock);
  return { ...backup, node, clock, call: api.call, finished: api.finished };
}

/** Creates a class with `count` objects; resolves with them by id. */
async function seed(journey: Journey, name: string, count: number, shards: number): Promise<Map<string, Json>> {
  const created = await journey.call('POST', '/v1/schema', {
    class: name,
    properties: [
      { name: 'title', dataType: ['text'] },
      { name: 'rank', dataType: ['int'] },
    ],
    shardingConfig: { desiredCount: shards },
  });
  if (created.status !== 200) throw new Error(`creating class ${name}: ${JSON.stringify(created.body)}`);
  const objects = new Map<string, Json>();
  for (let i = 0; i < count; i += 500) {
    const batch = Array.from({ length: Math.min(500, count - i) }, (_, j) => ({
      class: name,
      properties: { title: `${name} ${i + j} ${'lorem ipsum '.repeat((i + j) % 9)}`, rank: i + j },
      vector: [(i + j) / count, 0.25],
    }));
    const reply = await journey.call('POST', '/v1/batch/objects', { objects: batch });
    for (const { result, ...object } of reply.body) objects.set(object.id, object);
  }
  return objects;
}

/** Every object of a class, by id, with the fields seeding gave it. */
async function readAll(journey: Journey, name: string): Promise<Map<string, Json>> {
  const objects = new Map<string, Json>();
  for (let after = ''; ; ) {
    const page = await journey.call('GET', `/v1/objects?class=${name}&limit=1000&include=vector${after}`);
    if (page.body.objects.length === 0) return objects;
    for (const { id, class: cls, properties, vector } of page.body.objects) {
      objects.set(id, { id, class: cls, properties, vector });
    }
    after = `&after=${page.body.objects.at(-1).id}`;
  }
}

function comparable(objects: Map<string, Json>): Json[] {
  return [...objects.values()]
    .map(({ id, class: cls, properties, vector }) => ({ id, class: cls, properties, vector }))
    .sort((a, b) => (a.id < b.id ? -1 : 1));
}

/**
 * Holds every chunk upload of the backup at `home` by the node's backend until its signal aborts, so
 * a cancel lands mid-upload. Which keys are chunks is core's to say (BackupHome), not the suite's.
 */
function holdChunkWrites(backend: BackupBackend, home: BackupHome): void {
  const write = backend.write.bind(backend);
  backend.write = async (key, body, options) => {
    const signal = options?.signal;
    if (home.parse(key)?.kind === 'chunk' && signal !== undefined && !signal.aborted) {
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    }
    return write(key, body, options);
  };
}

export function journeyChecks(test: ConformanceTest, subject: Subject): void {
  test('journey: a node backs up classes while writes go on; deleted and restored, every object is back', async (t) => {
    const journey = await startJourney(t, subject);
    const classes = ['ConformanceArticle', 'ConformanceAuthor'];
    const seeded = [
      await seed(journey, classes[0] as string, 1200, 2),
      await seed(journey, classes[1] as string, 300, 1),
    ];
    await seed(journey, 'ConformanceLoad', 0, 1);

    let writing = true;
    let writes = 0;
    const failures: string[] = [];
    const writer = (async () => {
      for (let i = 0; writing && !journey.clock.expired; i++) {
        const reply = await journey.call('POST', '/v1/objects', { class: 'ConformanceLoad', properties: { rank: i } });
        if (reply.status === 200) writes++;
        else failures.push(`${reply.status} ${JSON.stringify(reply.body)}`);
      }
    })().catch((error: unknown) => {
      failures.push(`a write threw ${error instanceof Error ? error.message : String(error)}`);
    });
    let backup: Json;
    try {
      const created = await journey.call('POST', `/v1/backups/${subject.name}`, {
        id: journey.id,
        include: classes,
        config: journey.config,
      });
      t.is(created.status, 200, `creating the backup answered ${created.status}: ${JSON.stringify(created.body)}`);
      backup = await journey.finished(`/v1/backups/${subject.name}/${journey.id}${journey.query}`);
    } finally {
      writing = false;
      await writer;
    }
    t.is(backup.status, 'SUCCESS', `the backup ended ${backup.status}: ${backup.error}`);
    t.deepEqual(failures, [], 'writes during the backup must not fail');
    t.true(writes > 0, 'writes went on during the backup');

    for (const name of classes) await journey.call('DELETE', `/v1/schema/${name}`);
    const restoring = await journey.call('POST', `/v1/backups/${subject.name}/${journey.id}/restore`, {
      config: journey.config,
    });
    t.is(restoring.status, 200, `starting the restore answered ${restoring.status}: ${JSON.stringify(restoring.body)}`);
    const restore = await journey.finished(`/v1/backups/${subject.name}/${journey.id}/restore${journey.query}`);
    t.is(restore.status, 'SUCCESS', `the restore ended ${restore.status}: ${restore.error}`);
    for (const [i, name] of classes.entries()) {
      t.deepEqual(
        comparable(await readAll(journey, name)),
        comparable(seeded[i] as Map<string, Json>),
        `class ${name} came back with other objects than were backed up`,
      );
    }
  });

  test('journey: a chunk corrupted in the backend fails the restore, naming the chunk', async (t) => {
    const journey = await startJourney(t, subject);
    await seed(journey, 'ConformanceCorrupt', 400, 1);
    await journey.call('POST', `/v1/backups/${subject.name}`, { id: journey.id, config: journey.config });
    const backup = await journey.finished(`/v1/backups/${subject.name}/${journey.id}${journey.query}`);
    t.is(backup.status, 'SUCCESS', `the backup ended ${backup.status}: ${backup.error}`);

    let chunk: string | undefined;
    for await (const object of subject.backend.list(journey.home.prefix, journey.options)) {
      if (journey.home.parse(object.key)?.kind === 'chunk') chunk ??= object.key;
    }
    if (chunk === undefined) {
      t.fail(`the backup wrote no chunk under "${journey.home.prefix}" that list() shows`);
      return;
    }
    const bytes = await collect(await subject.backend.read(chunk, journey.options));
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    await subject.backend.write(chunk, streamOf(bytes), journey.options);

    await journey.call('DELETE', '/v1/schema/ConformanceCorrupt');
    await journey.call('POST', `/v1/backups/${subject.name}/${journey.id}/restore`, { config: journey.config });
    const restore = await journey.finished(`/v1/backups/${subject.name}/${journey.id}/restore${journey.query}`);
    t.is(restore.status, 'FAILED', 'a restore from a corrupted chunk must fail');
    t.true(String(restore.error).includes(chunk), `the restore's error must name ${chunk}: ${restore.error}`);
    const schema = await journey.call('GET', '/v1/schema/ConformanceCorrupt');
    t.is(schema.status, 404, 'a failed restore must leave no class behind');
  });

  test('journey: a backup canceled mid-upload ends CANCELED', async (t) => {
    const journey = await startJourney(t, subject);
    await seed(journey, 'ConformanceCancel', 200, 1);
    holdChunkWrites(journey.node.modules.backend(subject.name), journey.home);
    await journey.call('POST', `/v1/backups/${subject.name}`, { id: journey.id, config: journey.config });
    const canceled = await journey.call('DELETE', `/v1/backups/${subject.name}/${journey.id}${journey.query}`);
    t.is(canceled.status, 204, `cancel answered ${canceled.status}: ${JSON.stringify(canceled.body)}`);
    const backup = await journey.finished(`/v1/backups/${subject.name}/${journey.id}${journey.query}`);
    t.is(backup.status, 'CANCELED', `a canceled backup must end CANCELED, not ${backup.status}`);
  });
}
