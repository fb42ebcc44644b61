"""Test stand-in for tqdm (imported, unused, by the release's orchestrator)."""


def tqdm(iterable=None, *args, **kwargs):
    return iterable
