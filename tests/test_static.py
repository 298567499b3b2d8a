"""The page's files: right types, compressed once when the browser accepts it, never outside."""

import gzip
import urllib.error
import urllib.request

import pytest


def fetch(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


@pytest.mark.parametrize("path,ctype", [
    ("/", "text/html"), ("/app.js", "text/javascript"), ("/style.css", "text/css"),
    ("/i18n/en.json", "application/json"),
])
def test_files_have_correct_types_and_headers(server, path: str, ctype: str) -> None:
    status, headers, body = fetch(server.url + path)
    assert status == 200 and headers["Content-Type"].startswith(ctype) and body
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_gzip_when_accepted_and_identical_content(server) -> None:
    _, plain_headers, plain = fetch(server.url + "/app.js")
    status, headers, body = fetch(server.url + "/app.js", **{"Accept-Encoding": "gzip"})
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert "Content-Encoding" not in plain_headers
    assert gzip.decompress(body) == plain and len(body) < len(plain)


def test_etag_gives_not_modified(server) -> None:
    _, headers, _ = fetch(server.url + "/style.css")
    status, _, body = fetch(server.url + "/style.css", **{"If-None-Match": headers["ETag"]})
    assert status == 304 and body == b""


@pytest.mark.parametrize("path", ["/../pyproject.toml", "/%2e%2e/pyproject.toml",
                                  "/nope.js", "/i18n/../../server/app.py"])
def test_nothing_outside_the_page_is_served(server, path: str) -> None:
    status, _, body = fetch(server.url + path)
    assert status == 404 and b"aiohttp" not in body


def test_member_page_is_within_60_kb_compressed(server) -> None:
    """Every file of the member page (its HTML, CSS, every module it may load and the
    largest of its catalogs), gzipped as the server sends them: at most 60 KB in all."""
    from conftest import ROOT

    web = ROOT / "client_web"
    modules = sorted(p.name for p in web.glob("*.js") if p.name != "moderate.js")
    catalogs = sorted(f"i18n/{p.name}" for p in (web / "i18n").glob("*.json"))
    sizes = {}
    for path in ["index.html", "style.css", *modules, *catalogs]:
        status, headers, body = fetch(f"{server.url}/{path}", **{"Accept-Encoding": "gzip"})
        assert status == 200 and headers["Content-Encoding"] == "gzip", path
        sizes[path] = len(body)
    largest = max(catalogs, key=sizes.__getitem__)
    total = sum(n for p, n in sizes.items() if p not in catalogs) + sizes[largest]
    assert total <= 60_000, (total, sizes)


def test_event_page_is_served_under_the_same_policy_within_30_kb(server) -> None:
    """/e/<slug> is client_web/event.html, under the member page's Content-Security-Policy;
    with its modules, its style sheets and the largest catalog, gzipped: at most 30 KB."""
    from conftest import ROOT

    status, headers, body = fetch(server.url + "/e/any-day", **{"Accept-Encoding": "gzip"})
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    _, member_headers, _ = fetch(server.url + "/")
    assert headers["Content-Security-Policy"] == member_headers["Content-Security-Policy"]
    assert b"event/app.js" in gzip.decompress(body)
    web = ROOT / "client_web"
    modules = sorted(f"event/{p.name}" for p in (web / "event").glob("*"))
    catalogs = sorted(f"i18n/{p.name}" for p in (web / "i18n").glob("*.json"))
    sizes = {}
    for path in ["event.html", "style.css", "i18n.js", "store.js", *modules, *catalogs]:
        status, headers, body = fetch(f"{server.url}/{path}", **{"Accept-Encoding": "gzip"})
        assert status == 200 and headers["Content-Encoding"] == "gzip", path
        sizes[path] = len(body)
    largest = max(catalogs, key=sizes.__getitem__)
    total = sum(n for p, n in sizes.items() if p not in catalogs) + sizes[largest]
    assert total <= 30_000, (total, sizes)
