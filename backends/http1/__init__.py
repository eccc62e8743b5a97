"""The proxy's HTTP/1.1 client: keep-alive connections to one upstream (pool.py), each an asyncio
protocol with httptools' parser (connection.py), and what can fail (errors.py).

Why not httpx: under load, 55% of the proxy's CPU went to httpx and httpcore, mostly bookkeeping per
request (the pool checks every connection's expiry, with a poll() each; anyio's stream attributes).
A client for one origin needs none of that, and costs a fraction of it per request.
"""
