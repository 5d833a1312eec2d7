"""Opening backends: shared while held, never closed under a holder, least recently used
idle ones evicted; capabilities checked before anything loads."""

from __future__ import annotations

import pytest

from homogeny import models
from homogeny.models import CapabilityError, registry


def _url(name: str) -> str:
    return f"openai:http://127.0.0.1:9/v1#{name}"  # constructing the client connects nowhere


@pytest.fixture(autouse=True)
def _empty_cache():
    models.close_all()
    yield
    models.close_all()


def test_the_same_spec_gives_the_same_backend_while_held():
    with models.open(_url("a")) as one, models.open(_url("a")) as two:
        assert one is two
        assert models.loaded() == [("openai:http://127.0.0.1:9/v1#a", 2)]
    assert models.loaded() == [("openai:http://127.0.0.1:9/v1#a", 0)]


def test_a_held_backend_is_never_closed_and_the_least_recently_used_idle_one_goes():
    with models.open(_url("held")) as held:
        with models.open(_url("old")) as old:
            pass
        with models.open(_url("newer")) as newer:
            pass
        assert old.http.client.is_closed  # least recently used and idle: gone at the 3rd
        assert not newer.http.client.is_closed
        with models.open(_url("newest")) as newest:
            assert not held.http.client.is_closed
            assert newer.http.client.is_closed
        assert not newest.http.client.is_closed
        for name in "bcdef":
            with models.open(_url(name)):
                pass
        assert not held.http.client.is_closed
        assert any(spec.endswith("#held") and n == 1 for spec, n in models.loaded())
    assert len(models.loaded()) <= registry.KEEP_LOADED


def test_reopening_refreshes_recency():
    with models.open(_url("a")) as a:
        pass
    with models.open(_url("b")):
        pass
    with models.open(_url("a")):
        pass
    with models.open(_url("c")):
        pass
    assert not a.http.client.is_closed
    assert [spec.rsplit("#", 1)[1] for spec, _ in models.loaded()] == ["a", "c"]


@pytest.mark.parametrize("need, who", [("score", "llama.cpp"), ("hidden_states", "transformers")])
def test_a_missing_capability_names_who_has_it_before_loading(need, who):
    with pytest.raises(CapabilityError, match=who) as err, models.open(_url("a"), need=need):
        pass
    assert "openai" in str(err.value) and "\n" not in str(err.value)
    assert models.loaded() == []


def test_credentials_stay_out_of_the_registry_listing():
    with models.open("openai:http://bob:hunter2-secret@127.0.0.1:9/v1#m") as backend:
        assert "hunter2" not in repr(models.loaded()) and "hunter2" not in backend.info.spec
