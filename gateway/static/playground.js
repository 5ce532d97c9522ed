// Starts GraphiQL from the assets jimu serves itself (see gateway/vendor/playground).
(function () {
  var config = JSON.parse(document.getElementById("jimu-config").textContent);
  var fetcher = GraphiQL.createFetcher({ url: config.endpoint });
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
