"""Stand-in for the `openai` package: enough for the release's modules to import.

Nothing in the name tests calls a model; any attempt to do so fails loudly.
"""


class OpenAI:
    def __init__(self, *args, **kwargs):
        self.args = args
        self.kwargs = kwargs

    def __getattr__(self, name):
        raise RuntimeError(f"openai stand-in: {name} is not available in tests")
