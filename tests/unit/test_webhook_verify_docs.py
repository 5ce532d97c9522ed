"""The verification snippets merchants copy from the README: shown verbatim, and right."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from adapters.webhooks.signing import signature
from tests.webhook_receiver import merchant_verify

ROOT = Path(__file__).resolve().parents[2]
VERIFY_JS = ROOT / "docs" / "webhooks" / "verify.js"
BODY = b'{"order":{"id":"42","total":"99.00"}}'
SECRET = "whsec_docs"


def test_the_readme_shows_both_snippets_verbatim():
    # given
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    # then
    for name, fence in [("verify.py", "```python\n"), ("verify.js", "```javascript\n")]:
        text = (ROOT / "docs" / "webhooks" / name).read_text(encoding="utf-8")
        assert f"{fence}{text}```" in readme, f"README.md must show docs/webhooks/{name} as it is"


def test_the_python_snippet_accepts_our_signature_and_rejects_forgeries():
    # given
    verify = merchant_verify()
    good = signature(SECRET, BODY)
    # when / then
    assert verify(SECRET, BODY, good)
    assert not verify(SECRET, BODY.replace(b"99", b"19"), good)
    assert not verify("whsec_other", BODY, good)
    assert not verify(SECRET, BODY, good[:-2])
    assert not verify(SECRET, BODY, "")


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not on PATH: the Node snippet is not checked")
def test_the_node_snippet_accepts_our_signature_and_rejects_forgeries(tmp_path: Path):
    # given
    body, forged = tmp_path / "body.json", tmp_path / "forged.json"
    body.write_bytes(BODY)
    forged.write_bytes(BODY.replace(b"99", b"19"))
    good = signature(SECRET, BODY)

    def node(secret: str, file: Path, header: str) -> int:
        return subprocess.run(["node", str(VERIFY_JS), secret, str(file), header], timeout=30).returncode

    # when / then
    assert node(SECRET, body, good) == 0
    assert node(SECRET, forged, good) == 1
    assert node("whsec_other", body, good) == 1
    assert node(SECRET, body, good[:-2]) == 1
