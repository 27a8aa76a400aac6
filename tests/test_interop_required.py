"""``interop.conftest.require``: a missing framework skips the interop tests, unless
``TCONV_REQUIRE_INTEROP=1`` (the README's test command, which CI runs) makes it a failure.

Runs without any framework installed: the framework asked for is a name no package has.
"""

import pytest

from interop.conftest import INSTALL, REQUIRE_INTEROP, require

MISSING = "tconv_no_such_framework"


def test_missing_framework_fails_when_required(monkeypatch):
    monkeypatch.setenv(REQUIRE_INTEROP, "1")
    with pytest.raises(pytest.fail.Exception) as failure:
        require(MISSING)
    assert MISSING in str(failure.value) and INSTALL in str(failure.value) and REQUIRE_INTEROP in str(failure.value)


@pytest.mark.parametrize("setting", [None, "0", ""])
def test_missing_framework_skips_otherwise(monkeypatch, setting):
    if setting is None:
        monkeypatch.delenv(REQUIRE_INTEROP, raising=False)
    else:
        monkeypatch.setenv(REQUIRE_INTEROP, setting)
    with pytest.raises(pytest.skip.Exception) as skip:
        require(MISSING, "the example")
    assert MISSING in str(skip.value) and "the example" in str(skip.value) and INSTALL in str(skip.value)


def test_present_framework_is_returned(monkeypatch):
    monkeypatch.setenv(REQUIRE_INTEROP, "1")
    import json

    assert require("json") is json
