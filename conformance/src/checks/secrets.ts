import { Writable } from 'node:stream';
import { inspect } from 'node:util';
import { createLogger } from '@strata/core/node';
import { type ConformanceTest, collect, randomName, streamOf } from '../harness.js';
import { PrefixedBackend } from '../prefixed-backend.js';
import type { SetSecret, Subject } from '../subject.js';

/** The forms a secret value takes in text: as set, and escaped inside a JSON string. */
const formsOf = (secret: SetSecret) => [secret.value, JSON.stringify(secret.value).slice(1, -1)];

/** `text` with every secret replaced by its variable's name, so that a failure never prints one. */
function masked(text: string, secrets: readonly SetSecret[]): string {
  return secrets.reduce(
    (result, secret) => formsOf(secret).reduce((inner, form) => inner.replaceAll(form, `<${secret.variable}>`), result),
    text,
  );
}

/**
 * The secrets check: the module, loaded with the node's own logger at trace level, goes through an
 * access check, a write, read, list and delete, and a read of a missing key; no value of a secret
 * variable the configuration sets may show in a log line, `meta()`, the configuration listing or an
 * error. Registered whatever the configuration: with no secret set, it checks only that the module
 * loads through the logger given.
 */
export function secretChecks(test: ConformanceTest, subject: Subject): void {
  test('secrets: no value of a secret variable shows in the log, meta(), the configuration listing or an error', async (t) => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    const loaded = await subject.loadAgain(createLogger('trace', sink));
    const backend = new PrefixedBackend(loaded.backend, `${subject.prefix}/${randomName('secrets')}`);
    const errors: unknown[] = [];
    try {
      await loaded.backend.checkAccess();
      await backend.write('object', streamOf(Buffer.from('secrets')));
      await collect(await backend.read('object'));
      for await (const object of backend.list('')) await backend.delete(object.key);
      await backend.read('missing').then(collect, (error: unknown) => errors.push(error));
    } catch (error) {
      errors.push(error);
    } finally {
      await loaded.backend.close?.();
    }
    t.true(
      lines.some((line) => line.includes('"msg":"module loaded"')),
      'core logs "module loaded" through the logger it gives the module; this check did not see it',
    );
    const shown: Array<[string, string]> = [
      ...lines.map((line): [string, string] => ['a log line', line]),
      ['meta()', JSON.stringify(loaded.meta)],
      ['the configuration listing', JSON.stringify(loaded.config)],
      ...errors.map((error): [string, string] => ['an error', inspect(error, { depth: 8 })]),
    ];
    for (const secret of subject.secrets) {
      for (const [where, text] of shown) {
        if (formsOf(secret).some((form) => text.includes(form))) {
          t.fail(
            `the value of ${secret.variable} shows in ${where}: ${masked(text, subject.secrets).slice(0, 500)}\n` +
              'Never log or throw the config or a credential, log fields one by one: core redacts a secret only in ' +
              'log messages and under the name of its key or variable (see docs/writing-a-provider.md#secrets).',
          );
        }
      }
    }
  });
}
