"""The front door: how ``scim-gateway serve`` reads requests off the network.

gunicorn stays the process manager (workers, SIGHUP, graceful stop, TLS settings); each worker
is an asyncio server (uvicorn's httptools protocol, :mod:`.worker`) that reads whole requests
without tying a thread, with deadlines for the headers (:mod:`.protocol`) and the body, and then
hands the request to the Flask app on a bounded thread pool (:mod:`.bridge`), answering 429
when that pool and its queue are full. See docs/deployment.md ("The front door").
"""
