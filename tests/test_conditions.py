"""Condition labels: validation, ids, keys."""

import pytest

from core.conditions import GENRES, KEYS, MOODS, Conditions, key_id, key_of_id, parse_key
from core.errors import InputError


def test_unspecified_is_id_zero_everywhere() -> None:
    assert Conditions().ids() == {"genre": 0, "mood": 0, "key": 0, "scale_type": 0}
    assert GENRES[0] == MOODS[0] == KEYS[0] == "unspecified"
    assert len(KEYS) == 25 and len(GENRES) >= 9


def test_parse_labels_and_aliases() -> None:
    c = Conditions.parse("R&B", "sad", "f#m", None)
    assert (c.genre, c.mood, c.key, c.scale_type) == ("soul", "sad", "F# minor", "minor")
    assert c.tonic == 6 and c.mode == "minor"
    assert Conditions.parse(key="Eb").key == "Eb major"
    assert Conditions.parse(key="A", scale_type="minor").key == "A minor"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"genre": "metal"}, "unknown genre 'metal'; accepted: unspecified, pop"),
     ({"mood": "angry"}, "unknown mood 'angry'"),
     ({"key": "H"}, "unknown key 'H'"),
     ({"scale_type": "dorian"}, "unknown scale type 'dorian'"),
     ({"key": "Am", "scale_type": "major"}, "is minor but scale type is major")],
)
def test_bad_labels_name_value_and_accepted(kwargs: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        Conditions.parse(**kwargs)


def test_key_ids_round_trip() -> None:
    for tonic in range(12):
        for scale in ("major", "minor"):
            kid = key_id(tonic, scale)
            assert KEYS[kid] .split()[1] == scale
            assert key_of_id(kid) == (tonic, scale)
    assert key_id(None, None) == 0 and key_of_id(0) is None
    assert parse_key("Bb major") == (10, "major")
