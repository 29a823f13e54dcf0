"""The protocol's plumbing, below both the producer and the workers: one way to open
Redis, the server-side functions, dispatch bookkeeping and the schema store."""
