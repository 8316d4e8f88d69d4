import test from 'ava';
import fc from 'fast-check';
import { MAX_PATTERN_LENGTH } from '../../src/backup/class-patterns.js';
import { MAX_SELECTION_ENTRIES, MAX_SELECTION_PATTERNS, selectClasses } from '../../src/backup/class-selection.js';

const select = (available: string[], request: { include?: string[]; exclude?: string[] }) =>
  selectClasses(available, request, 'backup');

/** The classes `pattern` selects, or the message it is refused with. */
function outcome(available: string[], pattern: string): string[] | string {
  try {
    return select(available, { include: [pattern] });
  } catch (error) {
    return (error as Error).message;
  }
}

/** A regular expression with the same meaning, fine for the short patterns of the property below. */
function reference(pattern: string): RegExp {
  const source = pattern.replace(/\*/g, '.*').replace(/\?/g, '.').replace(/\[!/g, '[^');
  return new RegExp(`^${source}$`);
}

test('patterns match as Go path.Match (and the regular expressions they replaced) do', (t) => {
  const token = fc.constantFrom('A', 'a', 'b', '_', '*', '?', '[ab]', '[!a]', '[^b_]', '[a-b]', '[A-Za]');
  const name = fc.stringMatching(/^[AB][ab_]{0,7}$/);
  const pattern = fc
    .array(token, { minLength: 1, maxLength: 8 })
    .map((tokens) => tokens.join(''))
    .filter((text) => /[*?[]/.test(text));
  // Throws with the smallest counterexample when a pattern selects other classes than its reference.
  fc.assert(
    fc.property(pattern, fc.uniqueArray(name, { minLength: 1 }), (glob, available) => {
      const expected = available.filter((candidate) => reference(glob).test(candidate));
      const wanted = expected.length > 0 ? expected : `empty class list: please choose from : [${available.join(' ')}]`;
      return JSON.stringify(outcome(available, glob)) === JSON.stringify(wanted);
    }),
    { numRuns: 5000 },
  );
  t.pass();
});

test('long runs between stars (several words of the Shift-And search) match as the reference does', (t) => {
  const run = fc.array(fc.constantFrom('a', 'b', '?', '[ab]', '[!b]'), { minLength: 0, maxLength: 70 });
  const pattern = fc.tuple(run, run, run).map(([a, b, c]) => `A${a.join('')}*${b.join('')}*${c.join('')}`);
  const name = fc.stringMatching(/^A[ab]{0,150}$/);
  fc.assert(
    fc.property(pattern, fc.uniqueArray(name, { minLength: 1, maxLength: 5 }), (glob, available) => {
      const expected = available.filter((candidate) => reference(glob).test(candidate));
      const wanted = expected.length > 0 ? expected : `empty class list: please choose from : [${available.join(' ')}]`;
      return JSON.stringify(outcome(available, glob)) === JSON.stringify(wanted);
    }),
    { numRuns: 2000 },
  );
  // Names made to hold the run (the first always matches), so matches are found, not only refused.
  fc.assert(
    fc.property(fc.array(fc.constantFrom('a', 'b'), { minLength: 33, maxLength: 100 }), fc.nat(40), (letters, cut) => {
      const middle = letters.join('');
      const glob = `A*${middle.replace(/a/g, '?')}*`;
      const available = [`A${'b'.repeat(cut)}${middle}b`, `A${middle.slice(1)}`];
      const expected = available.filter((candidate) => reference(glob).test(candidate));
      return expected.length > 0 && JSON.stringify(outcome(available, glob)) === JSON.stringify(expected);
    }),
    { numRuns: 1000 },
  );
  t.pass();
});

test('a backslash escapes the next character, and ^ negates a set as ! does', (t) => {
  const available = ['Article', 'Author', 'Book'];
  t.deepEqual(select(available, { include: ['\\Art*'] }), ['Article']);
  t.deepEqual(select(available, { include: ['[^A]*'] }), ['Book']);
  t.deepEqual(select(available, { include: ['[\\A]u*'] }), ['Author'], 'escaped inside a set');
  t.throws(() => select(available, { include: ['Art\\*'] }), { message: /^empty class list/ }, 'a literal *');
});

test('malformed patterns are refused with what is wrong, never with a 500', (t) => {
  const cases: Array<[string, string]> = [
    ['[z-a]*', "invalid class pattern '[z-a]*': range 'z-a' is reversed: write 'a-z'"],
    ['A[]', "invalid class pattern 'A[]': empty character set '[]': list characters in it, e.g. '[ab]'"],
    ['[!]', "invalid class pattern '[!]': empty character set '[]': list characters in it, e.g. '[ab]'"],
    [
      '[-a]',
      "invalid class pattern '[-a]': a '-' in a character set must join a range, e.g. '[a-z]', or be escaped: '\\-'",
    ],
    [
      '[a-]',
      "invalid class pattern '[a-]': a '-' in a character set must join a range, e.g. '[a-z]', or be escaped: '\\-'",
    ],
    ['[a-', "invalid class pattern '[a-': unclosed '['"],
    ['[a\\', "invalid class pattern '[a\\': it ends in an unfinished escape '\\' in '[...]'"],
    ['Art\\', "invalid class pattern 'Art\\': it ends in an unfinished escape '\\'"],
  ];
  for (const [pattern, message] of cases) {
    const error = t.throws(() => select(['Article'], { include: [pattern] }), { message }, pattern);
    t.like(error, { code: 'STRATA_BACKUP_INVALID_REQUEST', statusCode: 422 });
  }
  t.throws(() => select(['Article'], { exclude: ['[z-a]'] }), { message: /range 'z-a' is reversed/ }, 'in exclude too');
});

test('patterns that made the regular expressions backtrack for minutes are matched at once', (t) => {
  const available = ['A'.padEnd(255, 'a'), 'B'.padEnd(200, 'a')];
  // Each took longer than 40 s against a 41-character name before; here, names are 255 characters.
  // Matching that backtracks again would run into the test's timeout.
  t.throws(() => select(available, { include: [`${'*a'.repeat(100)}*b`] }), { message: /^empty class list/ });
  t.deepEqual(select(available, { include: [`${'*a'.repeat(100)}*`] }), available);
  t.deepEqual(select(available, { include: [`A*${'?'.repeat(200)}`] }), [available[0]]);
});

test('include and exclude are bounded, each limit at and just over it', (t) => {
  const available = Array.from({ length: MAX_SELECTION_ENTRIES + 1 }, (_, i) => `Class${i}`);
  t.is(select(available, { include: available.slice(0, MAX_SELECTION_ENTRIES) }).length, MAX_SELECTION_ENTRIES);
  t.throws(() => select(available, { include: available }), {
    message: `class list 'include' has ${MAX_SELECTION_ENTRIES + 1} entries; at most ${MAX_SELECTION_ENTRIES} are allowed: select classes with wildcards, e.g. 'Article*'`,
  });
  t.throws(() => select(available, { exclude: available }), { message: /^class list 'exclude' has 1001 entries/ });

  const patterns = (count: number) => Array.from({ length: count }, (_, i) => `Class${i}*`);
  t.is(select(available, { include: patterns(MAX_SELECTION_PATTERNS) }).length > 0, true);
  t.throws(() => select(available, { include: patterns(MAX_SELECTION_PATTERNS + 1) }), {
    message: `class list 'include' has ${MAX_SELECTION_PATTERNS + 1} wildcard patterns; at most ${MAX_SELECTION_PATTERNS} are allowed`,
  });

  const long = 'A'.padEnd(MAX_PATTERN_LENGTH, '?');
  t.deepEqual(select(['A'.padEnd(MAX_PATTERN_LENGTH, 'a')], { include: [long] }), [
    'A'.padEnd(MAX_PATTERN_LENGTH, 'a'),
  ]);
  t.throws(() => select(['A'], { include: [`${long}*`] }), {
    message: `invalid class pattern '${long}*': it has 256 characters; a pattern may have at most 255, the most a class name has`,
  });
});

test('a list as long as the limit is checked in linear time', (t) => {
  const available = Array.from({ length: MAX_SELECTION_ENTRIES }, (_, i) => `Class${i}`);
  // Quadratic checks took seconds per round at this size; that would run into the test's timeout.
  for (let round = 0; round < 20; round++) {
    t.is(select(available, { include: [...available].reverse() }).length, MAX_SELECTION_ENTRIES);
  }
  t.throws(() => select(available, { include: [...available.slice(1), 'Class1'] }), {
    message: "class list 'include' contains duplicate: Class1",
  });
});

test('messages quote a bounded excerpt of a long entry', (t) => {
  const name = `A${'b'.repeat(100_000)}`;
  const error = t.throws(() => select(['Article'], { include: [name] }));
  t.is(error?.message, `class ${name.slice(0, 256)}...(99745 more characters) doesn't exist`);
  const duplicate = t.throws(() => select(['Article'], { include: [name, name] }));
  t.true((duplicate?.message.length ?? 0) < 400);
});
