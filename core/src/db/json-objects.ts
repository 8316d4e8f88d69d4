/** JSON objects as class definitions hold them: how Strata tells one, drops its nulls, fills its defaults. */

/** True for a JSON object (not null, not an array): what class and object fields must be. */
export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * `record` without its `null` fields. Weaviate reads a class into Go structs, where a `null` is the
 * field's zero value and is left out when written back, so `"tokenization": null` is no tokenization.
 */
export function withoutNulls(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== null));
}

/**
 * `given` over `defaults`, object fields merged field by field at every level: what the user gave
 * wins, defaults fill what it left out (or gave as `null`). Fields `defaults` lacks are kept as given.
 * The result shares no object with `defaults`, so a class holding it cannot change the defaults.
 */
export function withDefaults(defaults: Record<string, unknown>, given: unknown): Record<string, unknown> {
  const fields = isRecord(given) ? given : {};
  const result: Record<string, unknown> = {};
  for (const [field, fallback] of Object.entries(defaults)) {
    const value = fields[field];
    if (isRecord(fallback) && (value == null || isRecord(value))) result[field] = withDefaults(fallback, value);
    else result[field] = value ?? fallback;
  }
  for (const [field, value] of Object.entries(fields)) if (!(field in defaults)) result[field] = value;
  return result;
}
