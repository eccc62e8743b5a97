"""The `rate_limits` setting: requests and tokens per minute, per key and per model, and quotas.

```yaml
rate_limits:
  organization: org-chatdouble     # named in the 429 messages
  requests_per_minute: 500         # every key, every model (absent: no limit)
  tokens_per_minute: 30000
  models:                          # name or glob: overrides for every key
    "gpt-4o*": {requests_per_minute: 5}
  keys:
    sk-small:                      # one key: its own values, and its own models
      tokens_per_minute: 1000
      models: {"*": {requests_per_minute: 3}}
    sk-broke: {quota_tokens: 0}    # 429 insufficient_quota once this many tokens are spent
```

A value is looked up from the most specific place that sets it: the key's model entry, the key, the
top level's model entry, the top level. As on the real API, every model has budgets of its own; a
glob entry shares one budget among the models it matches (`"*"`: one budget for all of a key's
models). Config models only: the settings (`server/config.py`) compose this one.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from pydantic import Field

from server.options import Strict


class ModelLimits(Strict):
    requests_per_minute: int | None = Field(default=None, ge=1)
    tokens_per_minute: int | None = Field(default=None, ge=1)


class KeyLimits(ModelLimits):
    models: dict[str, ModelLimits] = Field(
        default_factory=dict, description="Per model name or glob; a glob's models share one budget."
    )
    quota_tokens: int | None = Field(
        default=None,
        ge=0,
        description="Tokens a key may spend in the server's life before 429 insufficient_quota; 0: none.",
    )

    def model_entry(self, model: str) -> tuple[str, ModelLimits] | None:
        """The entry for `model`: its exact name first, then the first glob that matches."""
        exact = self.models.get(model)
        if exact is not None:
            return model, exact
        for pattern, limits in self.models.items():
            if fnmatch.fnmatchcase(model, pattern):
                return pattern, limits
        return None


class RateLimits(KeyLimits):
    organization: str = Field(default="org-chatdouble", min_length=1)
    keys: dict[str, KeyLimits] = Field(default_factory=dict)

    def limits_for(self, key: str, model: str) -> Limits:
        """The limits a request by `key` for `model` is held to."""
        own = self.keys.get(key)
        levels: list[ModelLimits] = []
        scope: str | None = None
        for holder in (own, self):
            if holder is None:
                continue
            entry = holder.model_entry(model)
            if entry is not None:
                scope = scope or entry[0]
                levels.append(entry[1])
            levels.append(holder)
        requests = next((one.requests_per_minute for one in levels if one.requests_per_minute), None)
        tokens = next((one.tokens_per_minute for one in levels if one.tokens_per_minute), None)
        quota = own.quota_tokens if own is not None and own.quota_tokens is not None else self.quota_tokens
        return Limits(scope or model, requests, tokens, quota)


@dataclass(frozen=True, slots=True)
class Limits:
    """What one request is held to: `scope` names the budget it draws from (the model, or the glob
    that groups it); None: no such limit."""

    scope: str
    requests: int | None
    tokens: int | None
    quota: int | None
