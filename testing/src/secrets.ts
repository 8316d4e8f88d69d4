import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { inspect } from 'node:util';
import { createLogger, StrataNode } from '@strata/core/node';
import { seedClass, startTestNode, waitForStatus } from './node.js';

/** The API key every node here requires: a secret of the node's own, looked for beside the module's. */
export const API_KEY_MARKER = 'strata-marker-api-key-4e8b0c';

const strataBin = join(dirname(createRequire(import.meta.url).resolve('@strata/core/package.json')), 'bin/strata.js');

/** A module to run with its secret variables set to marker values. */
export interface SecretsRun {
  /** The module's directory, as ENABLE_MODULES takes it. */
  readonly moduleDir: string;
  /** The module's variables, secret ones set to distinctive markers. */
  readonly env: Record<string, string>;
}

/** What a node running the module showed. */
export interface Shown {
  /** Every line the node logged, at trace level, from start to stop. */
  readonly logs: ReadonlyArray<Record<string, unknown>>;
  /** The `config` of the `module loaded` line. */
  readonly loadedConfig: unknown;
  /** How the backup ended (`SUCCESS`, `FAILED`), or the HTTP status that refused to create it. */
  readonly backup: string;
  /** All of it as one text to search: the logs, every API reply, `strata modules` and its `--json`. */
  readonly text: string;
}

/** What `strata <args>` printed, run from the module's directory with exactly `env`. */
function strata(args: readonly string[], run: SecretsRun): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [strataBin, ...args],
      { cwd: run.moduleDir, env: { PATH: process.env.PATH ?? '', ...run.env, ENABLE_MODULES: run.moduleDir } },
      (error, stdout, stderr) => resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr }),
    );
  });
}

/**
 * Runs the module in a node logging at trace level, with API keys on: seeds a class, reads
 * `GET /v1/meta`, backs the class up through `backend` (the module's name in the backup API), and when
 * that succeeds drops and restores it; stops the node and runs `strata modules` (text and JSON).
 * Resolves with everything shown, to assert that no marker appears in it.
 */
export async function showSecrets(
  t: { teardown(fn: () => Promise<void>): void },
  run: SecretsRun,
  backend: string,
): Promise<Shown> {
  const env = {
    ...run.env,
    ENABLE_MODULES: run.moduleDir,
    AUTHENTICATION_APIKEY_ENABLED: 'true',
    AUTHENTICATION_APIKEY_ALLOWED_KEYS: API_KEY_MARKER,
  };
  const node = await startTestNode(t, env, {
    logLevel: 'trace',
    headers: { authorization: `Bearer ${API_KEY_MARKER}` },
  });
  await seedClass(node, 'Secrets', 20);
  const replies: unknown[] = [await node.request('GET', '/v1/meta')];
  const created = await node.request('POST', `/v1/backups/${backend}`, { id: 'secrets' });
  replies.push(created);
  let backup = String(created.status);
  if (created.status === 200) {
    const done = await waitForStatus(node, `/v1/backups/${backend}/secrets`);
    replies.push(done);
    backup = done.body.status;
    if (backup === 'SUCCESS') {
      await node.request('DELETE', '/v1/schema/Secrets');
      replies.push(await node.request('POST', `/v1/backups/${backend}/secrets/restore`, {}));
      replies.push(await waitForStatus(node, `/v1/backups/${backend}/secrets/restore`));
    }
  }
  await node.node.stop();
  const modules = [await strata(['modules'], run), await strata(['modules', '--json'], run)];
  const loaded = node.logs.find((line) => line.msg === 'module loaded');
  return {
    logs: node.logs,
    loadedConfig: loaded?.config,
    backup,
    text: JSON.stringify({ logs: node.logs, replies, modules }, null, 1),
  };
}

/**
 * What a start-up that fails shows: the error a node's start rejects with (inspected, causes
 * included), what it logged at trace level, and what `strata modules` prints. Rejects when the
 * node starts.
 */
export async function startupFailure(run: SecretsRun): Promise<{ message: string; text: string }> {
  const dataPath = await mkdtemp(join(tmpdir(), 'strata-node-'));
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _, done) {
      lines.push(String(chunk));
      done();
    },
  });
  let failure: unknown;
  try {
    const node = await StrataNode.start({
      env: { ...run.env, ENABLE_MODULES: run.moduleDir, PERSISTENCE_DATA_PATH: dataPath },
      port: 0,
      logger: createLogger('trace', sink),
    });
    await node.stop();
  } catch (error) {
    failure = error;
  } finally {
    await rm(dataPath, { recursive: true, force: true });
  }
  if (failure === undefined) throw new Error(`the node started with ENABLE_MODULES=${run.moduleDir}`);
  const cli = await strata(['modules'], run);
  const message = failure instanceof Error ? failure.message : String(failure);
  return { message, text: [inspect(failure, { depth: 8 }), ...lines, cli.stdout, cli.stderr].join('\n') };
}

/** Fails the test for each marker that appears in `text`, as written or JSON-escaped, showing where. */
export function assertNoMarker(
  t: { false(actual: boolean, message?: string): void },
  text: string,
  markers: readonly string[],
): void {
  for (const marker of [...markers, API_KEY_MARKER]) {
    const at = [marker, JSON.stringify(marker).slice(1, -1)].map((form) => text.indexOf(form)).find((i) => i >= 0);
    t.false(
      at !== undefined,
      `secret "${marker}" shown: ...${text.slice(Math.max(0, (at ?? 0) - 200), (at ?? 0) + 100)}...`,
    );
  }
}
