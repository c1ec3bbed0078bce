"""The test kit: GraphQL documents, clients, device flows and servers the test modules share."""
