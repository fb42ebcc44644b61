"""Test stand-in for loguru (imported by the release's skill loader; logging only)."""


class _Logger:
    def __getattr__(self, _name):
        return lambda *args, **kwargs: None


logger = _Logger()
