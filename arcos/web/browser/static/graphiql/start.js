// Starts GraphiQL on ARCOS's page without inline script (the page's policy forbids it).
// React, ReactDOM, GraphiQL, graphqlWs and GraphiQLPluginExplorer are the globals of the
// UMD files the page loaded before this module.
/* global React, ReactDOM, GraphiQL, graphqlWs, GraphiQLPluginExplorer */

const EXAMPLE = `# ARCOS GraphiQL. Add your token in the Headers pane:
#   {"Authorization": "Bearer <token>"}
# It is sent with queries and, for subscriptions, in connection_init.

{
  viewer { name scopes }
}
`;

const root = document.getElementById("graphiql");
const endpoint = new URL(root.dataset.endpoint || "/graphql", window.location.href);
const socketUrl = new URL(endpoint);
socketUrl.protocol = endpoint.protocol === "https:" ? "wss:" : "ws:";

// What the Headers pane holds now: the websocket sends it as its connection_init payload.
let headersText = "";

function currentHeaders() {
  try {
    const parsed = JSON.parse(headersText || "{}");
    return parsed && typeof parsed === "object" ? parsed : {};
  } catch {
    return {};
  }
}

// Lazy: connects for the first subscription and closes after the last, so a subscription
// started after the headers changed authenticates with the new ones.
const wsClient = graphqlWs.createClient({
  url: socketUrl.toString(),
  lazy: true,
  connectionParams: () => currentHeaders(),
});

const overHttp = GraphiQL.createFetcher({ url: endpoint.toString() });

// Whether the operation to run is a subscription, decided from the text being run (the
// toolkit's fetcher decides from GraphiQL's debounced parse, which can still be the
// previous document's right after an edit, and then sends a subscription over HTTP).
function isSubscription(query, operationName) {
  let document;
  try {
    document = GraphiQL.GraphQL.parse(query);
  } catch {
    return false;
  }
  const operations = document.definitions.filter((d) => d.kind === "OperationDefinition");
  const chosen = operationName
    ? operations.find((d) => d.name && d.name.value === operationName)
    : operations[0];
  return Boolean(chosen) && chosen.operation === "subscription";
}

// An Observable GraphiQL renders each result of; unsubscribing (the stop button) ends it.
function overSocket(params) {
  return {
    subscribe(observer) {
      const dispose = wsClient.subscribe(params, {
        next: (value) => observer.next(value),
        complete: () => observer.complete(),
        error: (error) => {
          if (Array.isArray(error)) {
            observer.next({ errors: error });
            observer.complete();
          } else {
            const reason = error && error.reason ? `: ${error.reason}` : "";
            observer.error(new Error(`the websocket closed (${error && error.code}${reason})`));
          }
        },
      });
      return { unsubscribe: dispose };
    },
  };
}

function fetcher(params, options) {
  if (isSubscription(params.query, params.operationName)) {
    return overSocket(params);
  }
  return overHttp(params, options);
}
function ArcosGraphiQL() {
  const [query, setQuery] = React.useState(EXAMPLE);
  // This build's explorer is a hook (the later explorerPlugin() factory is not in it).
  const explorer = GraphiQLPluginExplorer.useExplorerPlugin({ query, onEdit: setQuery });
  return React.createElement(GraphiQL, {
    fetcher,
    query,
    onEditQuery: setQuery,
    plugins: [explorer],
    isHeadersEditorEnabled: true,
    // Not kept in localStorage: a token there would outlive the tab.
    shouldPersistHeaders: false,
    defaultEditorToolsVisibility: true,
    onEditHeaders: (text) => {
      headersText = text;
    },
  });
}

ReactDOM.render(React.createElement(ArcosGraphiQL), root);
