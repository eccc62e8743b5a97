"""What the server keeps between requests. Today: the journal file. Shared state (counters, stores,
quotas) will live behind one interface here, with an in-process and a Redis implementation."""
