import { Writable } from 'node:stream';
import test from 'ava';
import { createLogger } from '../../src/node/index.js';
import { secretPaths } from '../../src/node/logger.js';

function capture() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger('trace', sink), text: () => lines.join('') };
}

test("the node's logger redacts Authorization headers and the API keys, by their key and variable name", (t) => {
  const { logger, text } = capture();
  logger.info({ authorization: 'Bearer key-one' }, 'header');
  logger.info({ req: { headers: { authorization: 'Bearer key-one' } } }, 'request');
  logger.info({ apiKeys: ['key-one', 'key-two'] }, 'parsed');
  logger.debug({ config: { AUTHENTICATION_APIKEY_ALLOWED_KEYS: 'key-one,key-two' } }, 'as the variable');
  logger.trace({ node: { config: { apiKeys: ['key-one'] } } }, 'two objects down');
  t.false(/key-(one|two)/.test(text()), text());
  t.is(text().match(/"\*\*\*"/g)?.length, 5);
});

test('secretPaths names every secret by key, variable and fallback, at the top and two objects down', (t) => {
  const paths = secretPaths({
    token: { name: 'TOKEN', fallbacks: ['OLD_TOKEN'], secret: true, description: 't' },
    plain: { name: 'PLAIN', description: 'p' },
  });
  t.deepEqual(paths, [
    'token',
    '*.token',
    '*.*.token',
    'TOKEN',
    '*.TOKEN',
    '*.*.TOKEN',
    'OLD_TOKEN',
    '*.OLD_TOKEN',
    '*.*.OLD_TOKEN',
  ]);
});
