/**
 * Pages of objects in id order (GET /v1/objects): a merge of a class's shard cursors, so a page
 * reads and decodes only its own objects, within Weaviate's limit on offset + limit and a bound on
 * a page's bytes.
 */
import { ClassNotFoundError, QueryLimitError, QueryPageTooLargeError } from '../errors.js';
import type { Cursor, Entry } from '../store/index.js';
import { TimeSlice } from '../time-slice.js';
import { capitalizeClassName } from './class-definition.js';
import type { LiveClass, SchemaRegistry } from './schema-registry.js';
import { decodeObject, type StoredObject } from './stored-object.js';
import { uuidBytes } from './uuid.js';

/** The objects of one `GET /v1/objects` page may take at most this many bytes (stored): they are all answered at once. */
export const MAX_PAGE_BYTES = 64 * 1024 * 1024;

/** Weaviate's QUERY_MAXIMUM_RESULTS default: offset + limit may not exceed it. */
export const QUERY_MAXIMUM_RESULTS = 10_000;

/** What a page asks for: one class (optionally after an id, exclusive) or every class, class by class. */
export interface PageQuery {
  className?: string;
  after?: string;
  offset?: number;
  limit: number;
}

/** A `GET /v1/objects` page as it fills: objects still to pass over, those taken, their bytes. */
interface Page {
  skip: number;
  readonly objects: StoredObject[];
  bytes: number;
  readonly slice: TimeSlice;
}

/**
 * Objects in id order: of one class (optionally after an id, exclusive), or of every class, class
 * by class. `offset + limit` may not exceed {@link QUERY_MAXIMUM_RESULTS}.
 * @throws QueryLimitError, ClassNotFoundError, QueryPageTooLargeError once the page's objects pass MAX_PAGE_BYTES.
 */
export async function listObjects(schema: SchemaRegistry, query: PageQuery): Promise<StoredObject[]> {
  const offset = query.offset ?? 0;
  if (offset + query.limit > QUERY_MAXIMUM_RESULTS) throw new QueryLimitError(QUERY_MAXIMUM_RESULTS);
  const names = query.className === undefined ? schema.definitions().map((c) => c.class) : [query.className];
  const page: Page = { skip: offset, objects: [], bytes: 0, slice: new TimeSlice() };
  for (const name of names) {
    if (query.className !== undefined && schema.find(name) === undefined)
      throw new ClassNotFoundError(capitalizeClassName(name));
    if (page.objects.length >= query.limit) break;
    await schema.use(name, (live) => scanClass(live, query.after, query.limit, page));
  }
  return page.objects;
}

/**
 * Adds the objects of a class in id order (after `after`) to `page`, until it holds `limit`: a merge
 * of its shards' cursors, so only the page's objects are read and decoded (the first `page.skip` are
 * passed over undecoded), letting the event loop turn as it goes.
 * @throws QueryPageTooLargeError once the page's objects pass MAX_PAGE_BYTES.
 */
async function scanClass(live: LiveClass, after: string | undefined, limit: number, page: Page): Promise<void> {
  const start = after === undefined ? undefined : uuidBytes(after);
  const cursors = live.shards.map((shard) => shard.objects.cursor());
  try {
    const heads = await Promise.all(
      cursors.map(async (cursor) => {
        const first = await cursor.seek(start);
        return start !== undefined && first?.key.equals(start) ? cursor.next() : first;
      }),
    );
    while (page.objects.length < limit) {
      let next = -1;
      for (const [i, head] of heads.entries()) {
        const best = next === -1 ? undefined : heads[next];
        if (head !== undefined && (best === undefined || Buffer.compare(head.key, best.key) < 0)) next = i;
      }
      if (next === -1) return;
      const { value } = heads[next] as Entry;
      if (page.skip > 0) page.skip--;
      else {
        page.bytes += value.length;
        if (page.bytes > MAX_PAGE_BYTES) throw new QueryPageTooLargeError(MAX_PAGE_BYTES);
        page.objects.push(decodeObject(value));
      }
      heads[next] = await (cursors[next] as Cursor).next();
      if (page.slice.due) await page.slice.next();
    }
  } finally {
    for (const cursor of cursors) cursor.close();
  }
}
