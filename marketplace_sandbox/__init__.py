"""The marketplace sandbox: a stand-in, over HTTP, for the marketplace's own services returnflow
calls (the order service's refunds and claims), with fault injection, for the dev stack and the
tests. Its routes are the contract a marketplace implements (schemas/marketplace-openapi.json)."""
