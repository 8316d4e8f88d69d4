import test from 'ava';
import { parseFileName, segmentFileName, temporaryFileName, walFileName } from '../../src/store/filenames.js';

const cases: ReadonlyArray<[string, ReturnType<typeof parseFileName>]> = [
  [walFileName(7), { kind: 'wal', number: 7 }],
  [segmentFileName(3, 12), { kind: 'segment', lo: 3, hi: 12 }],
  [temporaryFileName(segmentFileName(1, 1)), { kind: 'temporary' }],
  ['LOCK', { kind: 'lock' }],
  ['segment-1-2.db', { kind: 'unknown' }],
  ['notes.txt', { kind: 'unknown' }],
];

for (const [name, parsed] of cases) {
  test(`${name} parses as ${parsed.kind}`, (t) => {
    t.deepEqual(parseFileName(name), parsed);
  });
}

test('file names are fixed-width so directory order is numeric order', (t) => {
  t.is(walFileName(7), 'wal-00000007.log');
  t.is(segmentFileName(3, 12), 'segment-00000003-00000012.db');
});
