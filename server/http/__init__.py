"""HTTP plumbing shared by every endpoint: middleware, auth, bodies, JSON and SSE responses, disconnects."""
