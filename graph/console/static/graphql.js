// The transport to /graphql: queries and mutations over HTTP, subscriptions over the
// graphql-transport-ws websocket (the graphql-ws client). Views do not use this module
// directly; api.js holds the operations.

import { createClient } from "./vendor/graphql-ws/client.js";

const ENDPOINT = new URL("/graphql", location.href).href;
const WEBSOCKET = ENDPOINT.replace(/^http/, "ws");

/** The server refused the login (HTTP 401), or throttled it (429). */
export class LoginRefused extends Error {}

/** No answer, or an answer that is not GraphQL. */
export class Unreachable extends Error {}

/** A GraphQL response with errors; ``codes`` are their ``extensions.code``. */
export class GraphQLErrors extends Error {
  constructor(errors) {
    super(errors.map((error) => error.message).join("; "));
    this.errors = errors;
    this.codes = errors.map((error) => error.extensions?.code);
  }
}

/** The HTTP Basic header of ``login`` (``tenant/username``) and ``password``, UTF-8. */
export function basicAuthorization(login, password) {
  let binary = "";
  for (const byte of new TextEncoder().encode(`${login}:${password}`)) {
    binary += String.fromCharCode(byte);
  }
  return `Basic ${btoa(binary)}`;
}

/** One login's way to the server: ``request`` over HTTP, ``subscribe`` over one websocket. */
export class GraphQLConnection {
  constructor(authorization, { onLoginLost } = {}) {
    this.authorization = authorization;
    this.onLoginLost = onLoginLost;
    this.socket = null;
    this.socketListeners = [];
    this.switching = null; // a password change under way (switchLogin)
  }

  /** ``changesLogin``: this is the request of a ``switchLogin`` (it must not wait for itself). */
  async request(query, variables = {}, { changesLogin = false } = {}) {
    const authorization = this.authorization;
    let response;
    try {
      response = await fetch(ENDPOINT, {
        method: "POST",
        credentials: "omit",
        cache: "no-store",
        headers: {
          Accept: "application/json",
          "Content-Type": "application/json",
          Authorization: authorization,
          // The server then answers 401 with XBasic, not Basic: no browser login prompt.
          "X-Requested-With": "XMLHttpRequest",
        },
        body: JSON.stringify({ query, variables }),
      });
    } catch {
      throw new Unreachable("Gatehouse cannot be reached. Check the network and try again.");
    }
    if (response.status === 401) {
      // Refused for the password this page just changed: send it again with the new one.
      if (!changesLogin) await this.switching;
      if (this.authorization !== authorization) return this.request(query, variables);
      const refused = new LoginRefused("Wrong tenant, username or password.");
      this.onLoginLost?.(refused);
      throw refused;
    }
    if (response.status === 429) {
      const wait = response.headers.get("Retry-After");
      throw new LoginRefused(
        `Too many failed logins from this address. Try again in ${wait ?? "a few"} seconds.`,
      );
    }
    if (response.status === 413) {
      throw new Unreachable("Gatehouse refused the request as too large (HTTP 413).");
    }
    let body;
    try {
      body = await response.json();
    } catch {
      throw new Unreachable(`Gatehouse answered HTTP ${response.status}.`);
    }
    if (body.errors?.length) throw new GraphQLErrors(body.errors);
    if (!response.ok || !body.data) throw new Unreachable(`Gatehouse answered HTTP ${response.status}.`);
    return body.data;
  }

  /**
   * Run ``change`` (the request that changes this login's password), then log in with
   * ``authorization`` from then on. Requests refused with 401 while it runs wait for it.
   */
  async switchLogin(authorization, change) {
    const switching = (async () => {
      const result = await change();
      this.authorization = authorization;
      return result;
    })();
    const settled = switching.catch(() => null);
    this.switching = settled;
    try {
      return await switching;
    } finally {
      if (this.switching === settled) this.switching = null;
    }
  }

  /**
   * Run a subscription; returns a function that stops it. ``sink.next(data, receivedAt)``
   * gets each result with the time it arrived (performance.now()); ``sink.error`` gets the
   * websocket's CloseEvent or a GraphQLErrors. No automatic retry: the caller resumes
   * with its own cursor (live.js).
   */
  subscribe(query, variables, sink) {
    return this.client().subscribe(
      { query, variables },
      {
        next: (result) => {
          const receivedAt = performance.now();
          if (result.errors?.length) sink.error(new GraphQLErrors(result.errors));
          else sink.next(result.data, receivedAt);
        },
        error: (error) => sink.error(Array.isArray(error) ? new GraphQLErrors(error) : error),
        complete: () => sink.complete(),
      },
    );
  }

  /** Listen to the websocket's "connected", "closed", ... events (see graphql-ws). */
  onSocket(event, listener) {
    this.socketListeners.push([event, listener]);
    if (this.socket) this.socket.on(event, listener);
  }

  client() {
    if (!this.socket) {
      this.socket = createClient({
        url: WEBSOCKET,
        // The same login as the HTTP requests, in connection_init (API.md §1).
        connectionParams: () => ({ Authorization: this.authorization }),
        lazy: true,
        lazyCloseTimeout: 3000,
        retryAttempts: 0,
      });
      for (const [event, listener] of this.socketListeners) this.socket.on(event, listener);
    }
    return this.socket;
  }

  close() {
    this.socket?.dispose();
    this.socket = null;
  }
}
