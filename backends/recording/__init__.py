"""Record and replay for the proxy backend: an exchange as a fixture (`cassette`), its file name and
YAML (`files`), written atomically (`atomic`, `recorder`), served offline by the fixtures engine
(`replay`), and checked for staleness against a request journal (`check`). The workflow is in
docs/recording.md, the format in docs/fixtures.md."""

from backends.recording.recorder import Recorder
from backends.recording.replay import Replayer

__all__ = ["Recorder", "Replayer"]
