"""The Lua that keeps a Redis store bounded like the in-process one: every kept object takes the
next number of one deployment-wide counter, joins an index ordered by it, and the oldest beyond the
store's size are dropped with everything they hold (`server/state/redis_responses.py`,
`redis_completions.py`).

An index member is `{namespace}\\n{id}`; a namespace may hold a line feed itself (a key and its
session), an id never does, so the member splits at its last one. The scripts name keys that they
build from the prefix, which a single Redis (not a cluster) allows.
"""

from __future__ import annotations

# A Lua function for a script: the counter and index keys, the TTL, the store's size and the new
# member; `drop(namespace, id)`, defined before it by the script, deletes one evicted object.
ORDER = """
local function keep_in_order(order_key, index_key, ttl, limit, member)
  local score = redis.call('INCR', order_key)
  redis.call('EXPIRE', order_key, ttl)
  redis.call('ZADD', index_key, score, member)
  redis.call('EXPIRE', index_key, ttl)
  local over = redis.call('ZCARD', index_key) - tonumber(limit)
  if over > 0 then
    local gone = redis.call('ZRANGE', index_key, 0, over - 1)
    redis.call('ZREMRANGEBYRANK', index_key, 0, over - 1)
    for _, old in ipairs(gone) do
      local namespace, id = string.match(old, '^(.*)\\n([^\\n]*)$')
      drop(namespace, id)
    end
  end
  return score
end
"""


def member(namespace: str, object_id: str) -> str:
    return f"{namespace}\n{object_id}"
