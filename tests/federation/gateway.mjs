// An Apollo gateway in front of jimu and the reviews subgraph. The supergraph is composed here
// with @apollo/composition from jimu's subgraph SDL (jimu export-schema --federation, in
// JIMU_SDL_FILE) and the reviews subgraph's own (its _service { sdl }); every subgraph call
// carries the client's X-Jimu-Key, which decides jimu's shop.
import { readFileSync } from "node:fs";
import { composeServices } from "@apollo/composition";
import { ApolloGateway, RemoteGraphQLDataSource } from "@apollo/gateway";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { parse } from "graphql";

const { JIMU_URL, REVIEWS_URL, JIMU_SDL_FILE, PORT } = process.env;

const answer = await fetch(REVIEWS_URL, {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ query: "{ _service { sdl } }" }),
});
const reviewsSdl = (await answer.json()).data._service.sdl;

const composed = composeServices([
  { name: "jimu", url: JIMU_URL, typeDefs: parse(readFileSync(JIMU_SDL_FILE, "utf8")) },
  { name: "reviews", url: REVIEWS_URL, typeDefs: parse(reviewsSdl) },
]);
if (composed.errors) {
  console.error("composition failed:\n" + composed.errors.map((e) => e.message).join("\n"));
  process.exit(2);
}

class KeyForwarding extends RemoteGraphQLDataSource {
  willSendRequest({ request, context }) {
    if (context.jimuKey) request.http.headers.set("x-jimu-key", context.jimuKey);
  }
}

const gateway = new ApolloGateway({
  supergraphSdl: composed.supergraphSdl,
  buildService: ({ url }) => new KeyForwarding({ url }),
});
const server = new ApolloServer({ gateway });
const { url } = await startStandaloneServer(server, {
  listen: { host: "127.0.0.1", port: Number(PORT) },
  context: async ({ req }) => ({ jimuKey: req.headers["x-jimu-key"] }),
});
console.log(`gateway ready at ${url}`);
