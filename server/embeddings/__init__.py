"""`POST /v1/embeddings`: the plan (validation, sizes, usage), the body writer and the route."""
