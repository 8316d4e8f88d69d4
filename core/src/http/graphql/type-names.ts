/**
 * GraphQL type names for one schema, each used once: a schema with two types of one name is refused
 * whole. Weaviate's names can collide (class `ArticleAdditional` and class `Article`'s `_additional`
 * type; class `String` and the scalar); a name taken already gets `_` in front, which no class name
 * may start with, as Weaviate does for classes named like a scalar.
 */
export class TypeNames {
  readonly #taken = new Set(['String', 'Int', 'Float', 'Boolean', 'ID']);

  /** `name`, or `name` with as many `_` in front as make it unused; taken from now on. */
  unique(name: string): string {
    let unused = name;
    while (this.#taken.has(unused)) unused = `_${unused}`;
    this.#taken.add(unused);
    return unused;
  }
}
