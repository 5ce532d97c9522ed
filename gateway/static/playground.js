// Starts GraphiQL from the assets jimu serves itself (see gateway/vendor/playground).
(function () {
  var config = JSON.parse(document.getElementById("jimu-config").textContent);
  // Outside production this header lets the playground run ad-hoc documents on a publishable key
  // whose shop runs trusted documents only (gateway/documents.py); in production it counts for nothing.
  var fetcher = GraphiQL.createFetcher({ url: config.endpoint, headers: { "X-Jimu-Playground": "1" } });
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultHeaders: JSON.stringify(config.headers, null, 2),
      defaultTabs: config.tabs,
      defaultEditorToolsVisibility: "headers",
      shouldPersistHeaders: true,
    })
  );
})();
