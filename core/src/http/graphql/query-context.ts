import type { DataApi } from '../../db/index.js';
import type { HttpContext } from '../context.js';

/** What the resolvers of one GraphQL request share: the data, and what the request has used so far. */
export interface QueryContext {
  readonly db: DataApi;
  readonly nodes: HttpContext['nodes'];
  /** Objects the request's Get fields have asked for so far (offset + limit of each). */
  asked: number;
  /** Each class's object count, once asked for: aliases of one Aggregate count once. */
  readonly counts: Map<string, Promise<number>>;
}
