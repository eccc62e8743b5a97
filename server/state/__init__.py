"""What the server keeps between requests: the journal, fixture counts, rate-limit budgets, stored
responses and chat completions. Each kind has one interface with an in-process implementation and,
for `state: redis://...`, a Redis one (docs/scale.md)."""
