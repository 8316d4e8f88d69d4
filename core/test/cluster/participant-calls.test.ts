/**
 * The participant calls on the wire, as a hostile or confused peer could send them: every argument is
 * checked before the participant sees it (refused 400, nothing written), an operation the node does
 * not hold is answered 404 at once rather than polled forever, and a poll in flight does not hold up
 * the internal API's close.
 */
import { readdir } from 'node:fs/promises';
import test from 'ava';
import { type PeerCallName, peerCallPath } from '../../src/cluster/peer-calls.js';
import { seed } from '../helpers/backups.js';
import { backupRequest, startParticipantNode } from './participant-node.js';

/** POSTs `body` as JSON to call `call` at `url`; the status and the parsed reply. */
async function post(url: string, call: PeerCallName, body: unknown) {
  const response = await fetch(`${url}${peerCallPath(call)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    json: (await response.json()) as { result?: unknown; error?: { code?: string; message: string } },
  };
}

const backup = backupRequest('hostile', ['Article']);
const operation = { kind: 'backup', id: 'hostile', backend: 'backup-filesystem', scope: {} };
const restore = { ...operation, kind: 'restore', backupNode: 'node1', concurrency: 2 };

/** Each hostile call, what it sends, and the argument its refusal must name. */
const HOSTILE: ReadonlyArray<readonly [string, PeerCallName, unknown, string]> = [
  ['a kind that is neither', 'participantPrepare', { request: { ...backup, kind: 'snapshot' } }, 'request.kind'],
  ['../ in an id', 'participantPrepare', { request: { ...backup, id: '../../etc' } }, 'request.id'],
  ['an id of capitals', 'participantCommit', { operation: { ...operation, id: 'Hostile' } }, 'operation.id'],
  ['no backend', 'participantPrepare', { request: { ...backup, backend: 7 } }, 'request.backend'],
  ['a scope that is a string', 'participantPrepare', { request: { ...backup, scope: '/tmp' } }, 'request.scope'],
  [
    'a path that is not a string',
    'participantStatus',
    { operation: { ...operation, scope: { path: 1 } } },
    'operation.scope.path',
  ],
  [
    'a class that is a path',
    'participantPrepare',
    { request: { ...backup, classes: ['../Article'] } },
    'request.classes',
  ],
  ['classes not an array', 'participantPrepare', { request: { ...backup, classes: 'Article' } }, 'request.classes'],
  ['concurrency 0', 'participantPrepare', { request: { ...backup, concurrency: 0 } }, 'request.concurrency'],
  ['concurrency a million', 'participantPrepare', { request: { ...backup, concurrency: 1e6 } }, 'request.concurrency'],
  ['concurrency 1.5', 'participantPrepare', { request: { ...restore, concurrency: 1.5 } }, 'request.concurrency'],
  [
    'an unknown compression',
    'participantPrepare',
    { request: { ...backup, compression: 'Brotli' } },
    'request.compression',
  ],
  [
    'a start that is no time',
    'participantPrepare',
    { request: { ...backup, startedAt: 'yesterday' } },
    'request.startedAt',
  ],
  [
    'a backup node that is a path',
    'participantPrepare',
    { request: { ...restore, backupNode: '..' } },
    'request.backupNode',
  ],
  ['include not strings', 'participantPrepare', { request: { ...restore, include: [1] } }, 'request.include'],
  ['no request', 'participantPrepare', {}, 'request'],
  ['an abort without a reason', 'participantAbort', { operation }, 'reason'],
  ['a negative from', 'participantEvents', { operation, from: -1, waitMs: 0 }, 'from'],
  ['a from that is a string', 'participantEvents', { operation, from: '0', waitMs: 0 }, 'from'],
  ['a negative wait', 'participantEvents', { operation, from: 0, waitMs: -5 }, 'waitMs'],
];

test('hostile arguments are each refused 400 with PeerCallArgsError, and nothing is written', async (t) => {
  const { node, local, api } = await startParticipantNode(t);
  await seed(node, 'Article', 20);
  const before = await readdir(node.dataPath, { recursive: true });
  for (const [what, call, body, field] of HOSTILE) {
    const reply = await post(api.url, call, body);
    t.is(reply.status, 400, what);
    t.is(reply.json.error?.code, 'STRATA_CLUSTER_INVALID_ARGS', what);
    t.true(
      reply.json.error?.message.startsWith(`internal call ${call}: ${field} must`),
      `${what}: ${reply.json.error?.message}`,
    );
  }
  t.deepEqual(await readdir(node.backups), [], 'nothing in the backups directory');
  t.deepEqual(await readdir(node.dataPath, { recursive: true }), before, 'nothing new in the data path');
  t.is(await local.status(backup), undefined, 'nothing prepared');
});

test('calls about an operation the node does not hold: 404 at once for a commit and a poll, null for a status', async (t) => {
  const { api } = await startParticipantNode(t);
  const started = Date.now();
  for (const call of ['participantEvents', 'participantCommit'] as const) {
    const reply = await post(api.url, call, { operation, from: 0, waitMs: 10_000 });
    t.is(reply.status, 404, call);
    t.is(reply.json.error?.code, 'STRATA_CLUSTER_PARTICIPANT_UNKNOWN_OPERATION', call);
    t.regex(String(reply.json.error?.message), /^node "node1" holds no backup "hostile"/);
  }
  t.true(Date.now() - started < 2_000, 'no poll waited');
  t.deepEqual(await post(api.url, 'participantStatus', { operation }), { status: 200, json: { result: null } });
  t.deepEqual(await post(api.url, 'participantAbort', { operation, reason: 'r' }), {
    status: 200,
    json: { result: null },
  });
});

test('a poll in flight is answered, empty, as the internal API closes', async (t) => {
  const { node, local, api } = await startParticipantNode(t);
  await seed(node, 'Article', 20);
  await local.prepare(backup);
  t.teardown(() => local.abort(backup, 'test over'));
  const poll = post(api.url, 'participantEvents', { operation: backup, from: 0, waitMs: 10_000 });
  await new Promise((resolve) => setTimeout(resolve, 200));
  const closing = Date.now();
  await api.close();
  t.true(Date.now() - closing < 2_000, `closed in ${Date.now() - closing} ms`);
  t.deepEqual(await poll, { status: 200, json: { result: { events: [], next: 0 } } });
});
