/**
 * One GraphQL request, as Weaviate resolves it: parsed, validated and executed against the classes'
 * schema, every problem answered as a GraphQL error of the result (status 200), not a failed request.
 */
import {
  type DocumentNode,
  type ExecutionResult,
  execute,
  GraphQLError,
  OverlappingFieldsCanBeMergedRule,
  parse,
  specifiedRules,
  validate,
} from 'graphql';
import { checkQuerySize } from './limits.js';
import type { QueryContext } from './query-context.js';
import type { BuiltSchema } from './schema-builder.js';
import { subsetRule, uniqueFieldsRule } from './subset-rule.js';

/** graphql-js's rules, its quadratic one replaced by uniqueFieldsRule (subset-rule.ts). */
const STANDARD_RULES = specifiedRules.filter((rule) => rule !== OverlappingFieldsCanBeMergedRule);

/** What a request asks: Weaviate's GraphQLQuery body. */
export interface GraphqlRequest {
  readonly query: string;
  readonly variables?: Record<string, unknown> | undefined;
  readonly operationName?: string | undefined;
}

/**
 * The result of `request` on `built`: its size checked first (limits.ts), then Strata's rules (what is
 * beyond the subset, fields selected twice) and, if they pass, graphql-js's.
 */
export async function runQuery(
  built: BuiltSchema,
  request: GraphqlRequest,
  context: QueryContext,
): Promise<ExecutionResult> {
  let document: DocumentNode;
  try {
    checkQuerySize(request.query);
    document = parse(request.query);
  } catch (error) {
    if (error instanceof GraphQLError) return { errors: [error] };
    throw error;
  }
  for (const rules of [[subsetRule(built.roles), uniqueFieldsRule], STANDARD_RULES]) {
    const errors = validate(built.schema, document, rules);
    if (errors.length > 0) return { errors };
  }
  return execute({
    schema: built.schema,
    document,
    contextValue: context,
    variableValues: request.variables,
    operationName: request.operationName,
  });
}
