/**
 * The methods each registered path serves, to answer 405 rather than 404 for a known path asked with
 * another method, as go-swagger does. Filled from Fastify's onRoute hook, so it follows the routes.
 */
export class RouteMethods {
  readonly #paths = new Map<string, { readonly pattern: RegExp; readonly methods: Set<string> }>();

  add(url: string, method: string | readonly string[]): void {
    let path = this.#paths.get(url);
    if (path === undefined) {
      // Each `:name` parameter of the routes is one whole segment.
      const source = url
        .split('/')
        .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join('/');
      path = { pattern: new RegExp(`^${source}$`), methods: new Set() };
      this.#paths.set(url, path);
    }
    for (const one of typeof method === 'string' ? [method] : method) path.methods.add(one);
  }

  /** The methods served at `path` (no query string), sorted; empty when no route matches it. */
  allowed(path: string): string[] {
    const methods = new Set<string>();
    for (const { pattern, methods: served } of this.#paths.values()) {
      if (pattern.test(path)) for (const method of served) methods.add(method);
    }
    return [...methods].sort();
  }
}
