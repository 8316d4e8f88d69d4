import test from 'ava';
import { planChunks } from '../../src/backup/chunk-plan.js';
import { selectClasses } from '../../src/backup/class-selection.js';

const classes = ['Article', 'ArticleDraft', 'Author', 'Book', 'Books'];
const select = (request: { include?: string[]; exclude?: string[] }, kind: 'backup' | 'restore' = 'backup') =>
  selectClasses(classes, request, kind);

test('wildcards: * any run, ? one character, [...] a set, [!...] its complement', (t) => {
  t.deepEqual(select({ include: ['Art*'] }), ['Article', 'ArticleDraft']);
  t.deepEqual(select({ include: ['Book?'] }), ['Books']);
  t.deepEqual(select({ include: ['[AB]u*', 'Book'] }), ['Author', 'Book']);
  t.deepEqual(select({ include: ['[!A]*'] }), ['Book', 'Books']);
  t.deepEqual(select({ exclude: ['*Draft', 'Book*'] }), ['Article', 'Author']);
  t.deepEqual(select({ include: ['Book', 'B*'] }), ['Book', 'Books'], 'a class matched twice is selected once');
  t.deepEqual(select({ include: ['article'] }), ['Article'], 'plain names are capitalised, as Weaviate does');
  t.deepEqual(select({ exclude: ['Nonexistent'] }), classes, 'excluding an absent class is no error');
});

test('wildcards that match nothing and broken patterns are refused with the choices', (t) => {
  t.throws(() => select({ include: ['Nothing*'] }), {
    message: 'empty class list: please choose from : [Article ArticleDraft Author Book Books]',
  });
  t.throws(() => select({ include: ['Nothing*'] }, 'restore'), {
    message: 'nothing left to restore: please choose from : [Article ArticleDraft Author Book Books]',
  });
  t.throws(() => select({ include: ['[Ab'] }), { message: "invalid class pattern '[Ab': unclosed '['" });
  t.throws(
    () => select({ include: ['Art.cle'] }),
    { message: "class Art.cle doesn't exist" },
    'a dot is literal, not a regex',
  );
});

const file = (path: string, size: number) => ({ path, source: `/staging/${path}`, size, shard: 's' });

test('files are packed in path order up to the target; a file at least the target travels alone', (t) => {
  const chunks = planChunks([file('c', 40), file('a', 30), file('big', 100), file('b', 30), file('d', 50)], 100);
  t.deepEqual(
    chunks.map((chunk) => chunk.map((f) => f.path)),
    [['big'], ['a', 'b', 'c'], ['d']],
  );
  t.deepEqual(planChunks([], 100), []);
  t.deepEqual(planChunks([file('x', 0)], 100).length, 1, 'an empty file still travels');
});
