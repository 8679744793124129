"""Model identities for links: name and weights digest, and finding the model a link names among the studio's."""

from __future__ import annotations

import hashlib
import shutil

import pytest

from core.errors import InputError
from core.generation.identity import DIGEST_LENGTH, ModelIdentity, find_model, model_identity, studio_models
from core.generation.loading import load_generator
from core.inference_weights import weights_files
from core.run_files import MODEL_FILE
from tests.tiny_models import saved_tiny_model


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    """A default model and three runs: another model, a copy of the default (same weights), a folder without a model."""
    root = tmp_path_factory.mktemp("studio")
    default = saved_tiny_model(root / "models" / "default", seed=1)
    runs = root / "output" / "runs"
    other = saved_tiny_model(runs / "other", seed=2)
    copy = runs / "copy-of-default"
    copy.mkdir(parents=True)
    shutil.copy(default / MODEL_FILE, copy / MODEL_FILE)
    (runs / "empty").mkdir()
    return {"default": default, "other": other, "copy": copy, "runs": runs}


def test_identity_is_the_name_and_the_start_of_the_weights_sha256(studio) -> None:
    identity = model_identity(studio["default"])
    npz, _ = weights_files(studio["default"] / MODEL_FILE)
    assert identity.name == "default" and len(identity.digest) == DIGEST_LENGTH
    assert identity.digest == hashlib.sha256(npz.read_bytes()).hexdigest()[:DIGEST_LENGTH]
    assert model_identity(load_generator(studio["default"])) == identity  # a loaded generator names the same
    assert identity.text == f"default@{identity.digest}" and ModelIdentity.parse(identity.text) == identity
    other = model_identity(studio["other"])
    assert other.name == "other" and not other.same_weights(identity)


def test_find_model_pins_the_weights_whatever_the_name(studio) -> None:
    folders = studio_models(studio["runs"], studio["default"])
    assert folders == [studio["default"], studio["copy"], studio["other"]]
    identity = model_identity(studio["default"])
    assert find_model(identity, folders) == studio["default"]  # the same weights, its own name first
    renamed = ModelIdentity("copy-of-default", identity.digest[:6])
    assert find_model(renamed, folders) == studio["copy"]  # a shortened digest still finds them
    assert find_model(f"gone@{identity.digest}", [studio["other"], studio["copy"]]) == studio["copy"]
    assert find_model("default@0123456789ab", folders) is None  # retrained or from another studio: not here


def test_bad_identities_and_ensembles_are_refused(studio) -> None:
    for text in ("default", "default@12345", "default@XYZ123", "../x@123456", "@123456", "a b@123456"):
        with pytest.raises(InputError, match="not a model identity"):
            ModelIdentity.parse(text)
    from core.generation.ensemble import load_ensemble

    with pytest.raises(InputError, match="ensemble"):
        model_identity(load_ensemble([str(studio["default"]), str(studio["other"])]))
