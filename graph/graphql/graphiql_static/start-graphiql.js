// GraphiQL for /graphql, from files Gatehouse serves itself (no CDN). The browser's
// cached Basic login goes with every request, and with the websocket's upgrade request.
(function () {
  "use strict";
  var endpoint = new URL("/graphql", window.location.href);
  var subscriptions = new URL(endpoint.href);
  subscriptions.protocol = endpoint.protocol === "https:" ? "wss:" : "ws:";
  var example = [
    "# Gatehouse GraphiQL: press the run button (or Ctrl-Enter) to ask who you are.",
    "# The Docs button lists every query, mutation and subscription.",
    "",
    "{",
    "  me { tenantId username permissions }",
    "  registrations(first: 10) { totalCount edges { node { id status } } }",
    "}",
    "",
  ].join("\n");
  var parameters = new URLSearchParams(window.location.search);
  var fetcher = GraphiQL.createFetcher({
    url: endpoint.href,
    subscriptionUrl: subscriptions.href,
  });
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: example,
      query: parameters.get("query") || undefined,
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
    }),
  );
})();
