"""``POST /song``: a whole song over JSON — its request and response bodies, its cost, and the answer.

The body holds the conditions, the song's shape (:class:`core.config.SongSettings`: ``form``, ``bars``,
``time_signature``, ``tempo``) and the sampling settings a song leaves open
(:class:`core.config.GenerationSettings` less ``length``, ``num_samples`` and ``let_model_end``), each
field derived from :mod:`core.config` with the limits the command line and the page use. The form is
read when the body is validated (:func:`core.song.form.read_form`), so an unknown section name, a form
too long or bars that do not fit are a 422 before the model runs. The answer is
:meth:`core.song.model.Song.to_dict`: ``sections`` (each with ``label``, ``name``, ``bars``, ``chords``,
``durations`` in beats), ``key``, ``time_signature``, ``tempo`` and how it was made.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, PrivateAttr, create_model, model_validator

from core.config import GenerationSettings, SongSettings
from core.serving.schemas import ConditionFields, guidance_factor, setting_field
from core.song.form import Form, read_form

#: the sampling settings a song request takes (a song sets its own length, number and ending).
SONG_SAMPLING = tuple(name for name in GenerationSettings.settings() if name not in ("length", "num_samples",
                                                                                    "let_model_end"))


class _SongRequestBase(ConditionFields):
    """``POST /song``: conditions, the form and the sampling settings (see :data:`SongRequest`)."""

    _form: Form = PrivateAttr()

    @model_validator(mode="after")
    def _form_reads(self):
        self._form = read_form(self.song_settings())  # InputError (a ValueError): a 422 naming what is wrong
        if self.in_key and self.conditions().tonic is None:
            raise ValueError("in_key needs a key (e.g. 'C' or 'A minor')")
        return self

    def song_settings(self) -> SongSettings:
        """The request's song shape."""
        return SongSettings(**{name: getattr(self, name) for name in SongSettings.settings()})

    def settings(self) -> GenerationSettings:
        """The request's sampling settings."""
        return GenerationSettings(**{name: getattr(self, name) for name in SONG_SAMPLING})

    def work(self) -> int:
        """Decoder row-steps the song costs at most: each section's chords and context, twice over under guidance."""
        from core.generation.song import song_work

        return song_work(self._form) * guidance_factor(self.guidance, self.conditions())


#: ``POST /song``'s body: the song settings and the sampling settings a song takes, on top of the conditions.
SongRequest = create_model(
    "SongRequest", __base__=_SongRequestBase,
    __doc__="``POST /song``: a whole song (same meaning as ``python -m core song``).",
    **{name: setting_field(spec) for name, spec in SongSettings.settings().items()},
    **{name: setting_field(spec) for name, spec in GenerationSettings.settings().items() if name in SONG_SAMPLING},
)


class SectionOut(BaseModel):
    """One section of the song: its label, name, bars, chords and each chord's duration in beats."""

    name: str
    label: str = Field(description="the section's label (intro, verse, pre-chorus, chorus, bridge, instrumental, "
                       "outro, or a letter A-H)")
    bars: int
    variation: bool
    chords: list[str] = Field(description="chord symbols spelled in the song's key")
    durations: list[int] = Field(description="each chord's duration in beats of the time signature")
    locked: list[int]


class SongResponse(BaseModel):
    """``POST /song``'s answer."""

    title: str
    form: str
    key: str
    key_given: bool
    time_signature: str
    tempo: int
    genre: str
    mood: str
    seed: int | None
    sections: list[SectionOut]
    notes: list[str]


def song_answer(generator, request: SongRequest) -> SongResponse:
    """The song the request describes, drawn with ``generator``."""
    from core.generation.song import generate_song

    song = generate_song(generator, request.song_settings(), request.conditions(), request.settings())
    return SongResponse(**song.to_dict())


def add_song_route(app) -> None:
    """Add ``POST /song`` to the API ``app`` (its model is ``app.state.generator``; heavy requests share its slots)."""
    from core.serving.admission import BUSY_RESPONSE

    @app.post("/song", response_model=SongResponse, responses=BUSY_RESPONSE)
    def song_endpoint(request: SongRequest) -> SongResponse:
        """A whole song: sections with their labels, chords and durations in beats; key, time signature, tempo."""
        with app.state.heavy_slots.taken(request.work()):
            return song_answer(app.state.generator, request)
