/**
 * RemoteParticipant against a real LocalParticipant behind a real internal API: a coordinator runs a
 * backup and a restore through it end to end, a participant's refusal arrives as its own class, its
 * events arrive in order however late one subscribes, and a node that goes away ends its part FAILED
 * within the stated bound.
 */
import { createServer, type Socket } from 'node:net';
import test from 'ava';
import { planBackup, planRestore } from '../../src/backup/requests.js';
import { NodeCalls } from '../../src/cluster/node-calls.js';
import { PeerClient } from '../../src/cluster/peer-client.js';
import { RemoteParticipant } from '../../src/cluster/remote-participant.js';
import { RestoreConflictError } from '../../src/errors.js';
import { holdChunks, readAll, seed } from '../helpers/backups.js';
import {
  answeredCalls,
  backupRequest,
  collect,
  coordinatorOf,
  NODE,
  startParticipantNode,
  untilDone,
} from './participant-node.js';

test('a coordinator backs up and restores through the participant of another node; every object comes back', async (t) => {
  const { node, logs, remote } = await startParticipantNode(t);
  const objects = await seed(node, 'Article', 300, 2);
  const { coordinator, context, finished } = await coordinatorOf(t, node, remote());

  await coordinator.backup(planBackup(context, 'filesystem', { id: 'across' }, ['Article']));
  await finished('backup', 'across');
  t.like((await node.request('GET', '/v1/backups/filesystem/across')).body, { status: 'SUCCESS' });

  await node.request('DELETE', '/v1/schema/Article');
  t.deepEqual(await coordinator.restore(planRestore(context, 'filesystem', 'across', {})), ['Article']);
  await finished('restore', 'across');
  t.like((await node.request('GET', '/v1/backups/filesystem/across/restore')).body, { status: 'SUCCESS' });
  t.deepEqual(await readAll(node, 'Article'), objects);

  // A second restore of the same backup: its events are its own, not the first one's.
  await node.request('DELETE', '/v1/schema/Article');
  await coordinator.restore(planRestore(context, 'filesystem', 'across', {}));
  await finished('restore', 'across');
  t.like((await node.request('GET', '/v1/backups/filesystem/across/restore')).body, { status: 'SUCCESS' });
  t.deepEqual(await readAll(node, 'Article'), objects);
  const calls = new Set(answeredCalls(logs));
  for (const call of ['participantPrepare', 'participantCommit', 'participantEvents']) t.true(calls.has(call), call);
});

test("a participant's refusal crosses as its own class: a restore conflict is a RestoreConflictError", async (t) => {
  const { node, remote } = await startParticipantNode(t);
  await seed(node, 'Article', 20);
  const { coordinator, context, finished } = await coordinatorOf(t, node, remote());
  await coordinator.backup(planBackup(context, 'filesystem', { id: 'conflict' }, ['Article']));
  await finished('backup', 'conflict');

  const refused = await t.throwsAsync(coordinator.restore(planRestore(context, 'filesystem', 'conflict', {})));
  t.true(refused instanceof RestoreConflictError);
  t.regex(String(refused?.message), /^cannot restore class Article: already exists/);
  t.is(await coordinator.live('restore', planRestore(context, 'filesystem', 'conflict', {})), undefined);
});

test('events arrive in order and complete for a subscriber of the middle and one after the end, each at once', async (t) => {
  const { node, local, remote } = await startParticipantNode(t);
  await seed(node, 'Article', 200);
  const participant = remote();
  const request = backupRequest('late', ['Article']);
  const hold = holdChunks(node, 'write');
  t.teardown(() => hold.release());
  await participant.prepare(request);
  await participant.commit(request);
  await hold.reached;
  const middle = collect(participant.events(request));
  // The poll waits on the node (10 s at most): each event is answered the moment it is pushed.
  const released = Date.now();
  hold.release();
  const seen = await middle;
  t.true(Date.now() - released < 5_000, `done within ${Date.now() - released} ms of the release, not a poll's wait`);
  await untilDone(local, request);
  const all = await collect(local.events(request));
  t.deepEqual(seen, all);
  t.deepEqual(
    all.map((event) => (event.type === 'phase' ? event.phase : event.outcome)),
    ['TRANSFERRING', 'TRANSFERRED', 'SUCCESS'],
  );
  t.deepEqual(await collect(participant.events(request)), all, 'after the end: every event from the first');
  t.like(await participant.status(request), { phase: 'DONE' });
});

test('an internal API closed mid-operation ends events() FAILED naming the node within 3 polls', async (t) => {
  const { node, local, api, remote } = await startParticipantNode(t);
  await seed(node, 'Article', 200);
  const participant = remote({ retryPollMs: 50, unreachableMs: 60_000 });
  const request = backupRequest('cut', ['Article']);
  const hold = holdChunks(node, 'write');
  t.teardown(async () => {
    await local.abort(request, 'test over');
    hold.release();
    await untilDone(local, request);
  });
  await participant.prepare(request);
  await participant.commit(request);
  await hold.reached;
  const events = collect(participant.events(request));
  await new Promise((resolve) => setTimeout(resolve, 100));
  const closing = Date.now();
  // The poll in flight is answered as the API closes, not after its wait.
  await api.close();
  t.true(Date.now() - closing < 2_000, `closed in ${Date.now() - closing} ms`);
  const seen = await events;
  const elapsed = Date.now() - closing;
  t.true(elapsed < 2_000, `given up ${elapsed} ms after the close (3 polls 50 ms apart)`);
  const done = seen.at(-1);
  t.like(done, { type: 'done', outcome: 'FAILED' });
  t.regex(String(done?.type === 'done' && done.error), new RegExp(`^node ${NODE} is unavailable: `));
  t.is(seen.filter((event) => event.type === 'done').length, 1);
});

test('a node that stops answering ends events() FAILED once the bound since its last answer passed', async (t) => {
  // Accepts connections and never answers: a frozen node.
  const sockets = new Set<Socket>();
  const server = createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  const { port } = server.address() as { port: number };
  const client = new PeerClient({ timeouts: { participantEvents: 200 } });
  const calls = new NodeCalls('coordinator', {} as never, client, () => [
    { name: 'node3', internalUrl: `http://127.0.0.1:${port}`, version: 'test' },
  ]);
  // So many failed polls allowed that only the time bound can end it (1000 polls would take minutes).
  const participant = new RemoteParticipant('node3', calls, {
    unreachableMs: 300,
    maxFailedPolls: 1000,
    retryPollMs: 50,
  });
  const started = Date.now();
  const seen = await collect(participant.events(backupRequest('frozen', ['Article'])));
  const elapsed = Date.now() - started;
  // Two polls of 200 ms: the second ends past the 300 ms bound. The ceiling is loose: a loaded machine is slow.
  t.true(elapsed >= 300 && elapsed < 10_000, `gave up after ${elapsed} ms`);
  t.deepEqual(seen, [
    { type: 'done', outcome: 'FAILED', error: 'node node3 is unavailable: no answer within 200 ms', bytes: 0 },
  ]);
});
