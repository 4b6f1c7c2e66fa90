"""Shared helpers for the off-policy tests: capture logged key/values through a callback."""
from rl.core.callbacks import BaseCallback


class _Capture:
    def __init__(self):
        self.dumps = []

    def write(self, key_values, key_excluded, step=0):
        self.dumps.append((step, dict(key_values)))

    def close(self):
        pass


class CaptureLogs(BaseCallback):
    """Adds an output format to the model's logger that keeps every dump as (step, {key: value})."""

    def __init__(self):
        super().__init__()
        self.capture = _Capture()

    def _on_training_start(self):
        self.model.logger.output_formats.append(self.capture)

    @property
    def keys(self):
        return set().union(*(values for _, values in self.capture.dumps))

    def _on_step(self):
        return True
