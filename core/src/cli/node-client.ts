import { CliRemoteError } from '../errors.js';

/** Talks to a running node's REST API for the CLI: STRATA_URL (default http://127.0.0.1:8080), STRATA_API_KEY. */
export class NodeClient {
  readonly url: string;
  readonly #apiKey: string | undefined;

  constructor(url: string, apiKey: string | undefined) {
    this.url = url.replace(/\/+$/, '');
    this.#apiKey = apiKey;
  }

  /** Sends a request; a reply of 400 or more throws with the node's own message. */
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, {
        method,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(this.#apiKey === undefined ? {} : { authorization: `Bearer ${this.#apiKey}` }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      // undici puts the socket error in `cause`, or several (one per address tried) in `cause.errors`.
      const cause = (error as { cause?: { code?: string; message?: string; errors?: Array<{ code?: string }> } }).cause;
      const code = cause?.code ?? cause?.errors?.[0]?.code ?? cause?.message ?? (error as Error).message;
      throw new CliRemoteError(
        this.url,
        `cannot reach the node (${code}); is \`strata serve\` running there? Set STRATA_URL or --url`,
      );
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      throw new CliRemoteError(
        this.url,
        `${method} ${path} answered ${response.status} with no JSON: ${text.slice(0, 200)}; is this a Strata node?`,
      );
    }
    if (response.status >= 400) {
      const reply = parsed as { error?: Array<{ message?: string }>; message?: string } | undefined;
      throw new CliRemoteError(
        this.url,
        `${method} ${path} answered ${response.status}: ${reply?.error?.[0]?.message ?? reply?.message ?? text}`,
      );
    }
    return parsed as T;
  }
}
