"""Real browser: the app fetches nothing from outside this machine (no CDN), so it works offline."""

from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import open_page, wait_idle

pytestmark = pytest.mark.browser


def test_no_request_leaves_the_server(page, server_url):
    hosts = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).hostname or urlsplit(request.url).scheme))
    open_page(page, server_url)
    for path in ("training-lab", "optimizers", "losses"):
        open_page(page, server_url, path)
        wait_idle(page)
    assert hosts <= {"127.0.0.1", "localhost", "data", "blob"}, hosts
