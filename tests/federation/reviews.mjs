// A second subgraph: reviews of jimu's products, by their handle (Product @key(fields: "handle")).
// Reviews name products by handle only; jimu resolves them, shop-scoped by the key the gateway forwards.
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { buildSubgraphSchema } from "@apollo/subgraph";
import { parse } from "graphql";

const typeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])

  type Query {
    topReviews: [Review!]!
  }

  type Review {
    rating: Int!
    body: String!
    product: Product
  }

  type Product @key(fields: "handle") {
    handle: String!
    reviews: [Review!]!
  }
`);

const REVIEWS = [
  { handle: "diaper-soft", rating: 5, body: "Soft, no leaks." },
  { handle: "diaper-soft", rating: 4, body: "Good, a little pricey." },
  { handle: "wipes-80", rating: 3, body: "Fine wipes." },
];

const resolvers = {
  Query: { topReviews: () => REVIEWS.filter((r) => r.rating >= 4) },
  Review: { product: (review) => ({ __typename: "Product", handle: review.handle }) },
  Product: {
    __resolveReference: (reference) => ({ handle: reference.handle }),
    reviews: (product) => REVIEWS.filter((r) => r.handle === product.handle),
  },
};

const server = new ApolloServer({ schema: buildSubgraphSchema({ typeDefs, resolvers }) });
const { url } = await startStandaloneServer(server, { listen: { host: "127.0.0.1", port: Number(process.env.PORT) } });
console.log(`reviews ready at ${url}`);
