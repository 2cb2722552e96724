import pytest

from webhooks.tests.receiver import Receiver


@pytest.fixture
def receiver():
    """A live HTTP receiver on 127.0.0.1 (a free port), stopped after the test."""
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _webhook_settings(settings):
    settings.WEBHOOKS_ALLOW_INSECURE_URLS = True  # the receiver is http://127.0.0.1
    settings.WEBHOOKS_TIMEOUT_SECONDS = 2.0
