import type { ClassDefinition } from '../../db/index.js';
import { type BuiltSchema, buildSchema } from './schema-builder.js';

/**
 * The GraphQL schema of the current classes, rebuilt when they change. Building one is too slow to do
 * per request (1,000 classes of 20 properties: 0.2 s, and 0.1 s more to validate it on first use), and
 * so is comparing the classes' contents (a string of their properties: 13 to 40 ms at that size). A
 * schema change replaces the definitions it changes (the registry and the cluster's schema build new
 * ones), so the definitions themselves are compared, with their number of properties in case one
 * gains a property in place: a few microseconds per class.
 */
export class SchemaCache {
  #classes: ReadonlyArray<{ readonly definition: ClassDefinition; readonly properties: number }> = [];
  #built: BuiltSchema | undefined;

  /** The schema of `classes`; undefined when there is none, as Weaviate has no GraphQL schema then. */
  get(classes: readonly ClassDefinition[]): BuiltSchema | undefined {
    if (classes.length === 0) return undefined;
    const same =
      classes.length === this.#classes.length &&
      classes.every((definition, i) => {
        const cached = this.#classes[i];
        return cached?.definition === definition && cached.properties === definition.properties.length;
      });
    if (!same || this.#built === undefined) {
      this.#built = buildSchema(classes);
      this.#classes = classes.map((definition) => ({ definition, properties: definition.properties.length }));
    }
    return this.#built;
  }
}
