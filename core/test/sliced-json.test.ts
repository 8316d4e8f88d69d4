import test from 'ava';
import fc from 'fast-check';
import { JSON_PIECE_BYTES, MAX_JSON_DEPTH, parseJson } from '../src/sliced-json.js';

const parse = (text: string, pieceBytes?: number) =>
  parseJson(Buffer.from(text), pieceBytes === undefined ? {} : { pieceBytes });

/** The error message parseJson rejects `text` with. */
async function refusal(text: string | Buffer, pieceBytes?: number): Promise<string> {
  try {
    await parseJson(
      typeof text === 'string' ? Buffer.from(text) : text,
      pieceBytes === undefined ? {} : { pieceBytes },
    );
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('accepted');
}

const failed = (reason: string) => `parsing body body from "" failed, because ${reason}`;
const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

test('any JSON parses to what JSON.parse gives, however small the pieces', async (t) => {
  await fc.assert(
    fc.asyncProperty(
      fc.jsonValue({ maxDepth: 8, stringUnit: 'binary' }),
      fc.integer({ min: 1, max: 80 }),
      fc.boolean(),
      async (value, pieceBytes, pretty) => {
        const text = JSON.stringify(value, null, pretty ? 2 : undefined);
        if (/"(__proto__|constructor)"/.test(text)) return true;
        return JSON.stringify(await parse(text, pieceBytes)) === JSON.stringify(JSON.parse(text));
      },
    ),
    { numRuns: 3000 },
  );
  t.pass();
});

test('a body is refused exactly when JSON.parse refuses it', async (t) => {
  const damage = fc.constantFrom(',', ']', '}', ':', '"', '\\', 'x', ' ', '[', '{', '1', '-', '.', 'e', '');
  await fc.assert(
    fc.asyncProperty(
      fc.jsonValue({ maxDepth: 5 }),
      fc.nat(),
      damage,
      fc.integer({ min: 1, max: 40 }),
      async (value, at, insert, pieceBytes) => {
        const base = JSON.stringify(value);
        const cut = at % (base.length + 1);
        const text = base.slice(0, cut) + insert + base.slice(cut + (insert === '' ? 1 : 0));
        if (/__proto__|constructor/.test(text)) return true;
        let valid = true;
        try {
          JSON.parse(text);
        } catch {
          valid = false;
        }
        let accepted = true;
        try {
          await parse(text, pieceBytes);
        } catch (error) {
          if ((error as { code?: string }).code !== 'STRATA_HTTP_INVALID_JSON') throw error;
          accepted = false;
        }
        return valid === accepted;
      },
    ),
    { numRuns: 3000 },
  );
  t.pass();
});

test('__proto__ and constructor.prototype are refused wherever the pieces fall', async (t) => {
  const big = `[${'1,'.repeat(40)}1]`;
  for (const text of [
    '{"__proto__":{"x":1}}',
    `{"a":${big},"__proto__":{"x":1}}`,
    `{"a":${big},"__proto__":${big}}`,
    `{"__pro\\u0074o__":${big}}`,
    `[${big},{"constructor":{"prototype":{"x":1}}}]`,
    `{"constructor":{"prototype":${big}}}`,
    `{"constructor":{"a":${big},"prototype":1}}`,
  ]) {
    for (const pieceBytes of [8, 32, 1024]) {
      t.is(await refusal(text, pieceBytes), failed('Object contains forbidden prototype property'), text);
    }
  }
  t.deepEqual(await parse(`{"constructor":{"a":${big}}}`, 8), { constructor: { a: JSON.parse(big) } });
  t.deepEqual(await parse('{"prototype":1}', 8), { prototype: 1 });
});

test(`nesting is refused past ${MAX_JSON_DEPTH} levels, in small and large bodies`, async (t) => {
  t.deepEqual(await parse(nested(MAX_JSON_DEPTH)), JSON.parse(nested(MAX_JSON_DEPTH)));
  const message = failed(
    `arrays and objects are nested deeper than 64 levels (at byte 64); Strata accepts at most 64 levels, flatten the document`,
  );
  t.is(await refusal(nested(MAX_JSON_DEPTH + 1)), message);
  t.is(await refusal(`${'{"a":'.repeat(65)}1${'}'.repeat(65)}`), message.replace('byte 64', 'byte 320'));
  // Half a million '[' once overflowed the stack of whatever walked the document.
  t.is(await refusal('['.repeat(500_000)), message);
  const padding = ' '.repeat(JSON_PIECE_BYTES);
  t.deepEqual(await parse(`${padding}${nested(MAX_JSON_DEPTH)}`), JSON.parse(nested(MAX_JSON_DEPTH)));
  t.is(await refusal(`${padding}${nested(MAX_JSON_DEPTH + 1)}`), message.replace('64)', `${JSON_PIECE_BYTES + 64})`));
});

test('a small body keeps JSON.parse messages; a large one names byte offsets', async (t) => {
  t.is(await refusal('{"class": "Thing",'), failed('Expected double-quoted property name in JSON at position 18'));
  t.is(await refusal(' '), failed('Unexpected end of JSON input'));
  // Two-byte characters before the error: bytes and characters differ. `at` is where `body` goes wrong.
  const items = Array.from({ length: 20 }, () => '"é"').join(',');
  // Each body is `before` + `after`, and goes wrong at the first character of `after`.
  const cases: Array<[before: string, after: string, problem: string]> = [
    [`[${items},1 `, '2]', "Expected ',' or ']' after array element in JSON"],
    [`[${items}] `, 'x', 'Unexpected non-whitespace character after JSON'],
    [`{"a":[${items}] `, '"b":1}', "Expected ',' or '}' after property value in JSON"],
    [`{"a":[${items}],`, '}', 'Expected double-quoted property name in JSON'],
    [`{"a":[${items}],"b" `, '[1]}', "Expected ':' after property name in JSON"],
    [`[${items},`, ':]', "Unexpected token ':' in JSON"],
    [`[${items},[1,`, '}]]', "Unexpected token '}' in JSON"],
  ];
  for (const [before, after, problem] of cases) {
    const body = before + after;
    t.is(await refusal(body, 16), failed(`${problem} at byte ${Buffer.byteLength(before)}`), body);
  }
  t.is(
    await refusal(`[${items},"open]`, 16),
    failed(`Unterminated string in JSON at byte ${Buffer.byteLength(`[${items},"open]`)}`),
  );
  t.is(await refusal(`[${items}`, 16), failed('Unexpected end of JSON input'));
  // JSON.parse of a piece: its own wording (which quotes the piece's start).
  t.regex(await refusal(`[${items},tru]`, 16), /^parsing body body from "" failed, because Unexpected token/);
});

test('a byte order mark is skipped; scalars, strings and empty containers parse at the top', async (t) => {
  t.deepEqual(await parseJson(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}')])), { a: 1 });
  const long = 'x'.repeat(3 * JSON_PIECE_BYTES);
  t.is(await parse(JSON.stringify(long)), long);
  t.deepEqual(await parse(`{"a":${JSON.stringify(long)},"b":[]}`), { a: long, b: [] });
  t.is(await parse(' 12.5e3 '), 12.5e3);
  t.deepEqual(await parse(`[${' '.repeat(JSON_PIECE_BYTES)}]`), []);
  t.deepEqual(await parse(`{${' '.repeat(JSON_PIECE_BYTES)}}`), {});
});

// Serial: the other tests of this file would hold the event loop themselves.
test.serial('a large body is parsed in slices: timers run while it is', async (t) => {
  const objects = Array.from({ length: 60_000 }, (_, i) => ({
    class: 'Article',
    properties: { title: `title ${i}`, n: i },
  }));
  const text = Buffer.from(JSON.stringify({ objects }));
  // A 1 ms timer never runs while one JSON.parse holds the loop; it runs between the slices.
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  const parsed = await parseJson(text);
  clearInterval(timer);
  t.deepEqual(parsed, { objects });
  t.true(ticks >= 3, `timers ran ${ticks} times while the body was parsed`);
});
