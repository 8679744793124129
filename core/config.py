"""Every user-facing setting, defined once: the model, training and generation configurations.

Each field of :class:`ModelConfig`, :class:`TrainConfig`, :class:`GenerationSettings` (and :class:`ComposerSettings`) is
declared with :func:`setting`, which stores a :class:`Setting` (type, default, limits, choices,
help text, command-line flags) in the dataclass field's metadata. Everything else derives from
that one declaration:

* the command line's flags (``core.cli.setting_flags``: argparse type, default, help);
* the HTTP API's request fields (``core.serving.schemas``: pydantic ``ge``/``le``/``gt``/``lt``, description);
* the Training form's defaults and validation (:meth:`TrainConfig.from_values`);
* the Generate page's URL reading and widget ranges (``studio.generate_url``, ``studio.page_settings``);
* the checks the library itself makes (:meth:`SettingsBase.validate`, :func:`check`).

So a limit changes in one place for every surface, and a new setting is one new field. A bad
value raises :class:`core.errors.InputError` naming the setting, the value and what is accepted;
NaN and infinities are refused everywhere, and so are fractions where a whole number is expected.

No Keras, TensorFlow or pandas here: light code (pages, the API's request models, the CLI's
``--help``) imports this module for free.
"""

from __future__ import annotations

import json
import math
import numbers
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from functools import cache
from pathlib import Path
from typing import Any, Self

from core.conditions import GENRES, KEYS, MOODS, SCALE_TYPES
from core.errors import InputError
from core.key_relative import CHORD_ENCODINGS, KEY_RELATIVE
from core.song_context import CONTEXTS, DURATION_BEATS, METRES, SECTION_LABELS, SONG, WINDOW
from core.vocabulary import VOCAB

#: recurrent cells the model can be built with.
CELLS: tuple[str, ...] = ("lstm", "gru")
#: learning-rate schedules (see core.training.schedule).
SCHEDULES: tuple[str, ...] = ("constant", "cosine")
#: curricula: how the training windows grow over the first epochs (see core.dataset.curriculum_length).
CURRICULA: tuple[str, ...] = ("none", "short-first")
#: tf.distribute strategies a training can run under (see core.training.distribute).
STRATEGIES: tuple[str, ...] = ("default", "mirrored", "multiworker")
#: a run folder name: a letter or digit first, then letters, digits, '.', '_' or '-' (64 at most).
#: Refuses '', '.', '..', spaces and path separators, so a run always lands in its own folder.
RUN_NAME = r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"
RUN_NAME_PATTERN = re.compile(rf"^{RUN_NAME}$")
#: a model's digest in its identity ``NAME@DIGEST`` (core.generation.identity): the start of its weights' sha256,
#: 6 to 64 lower-case hex digits (a hand-shortened link still names one model).
MODEL_DIGEST = r"[0-9a-f]{6,64}"
#: largest random seed (NumPy and Keras seeds are unsigned 32-bit).
MAX_SEED = 2**32 - 1
#: classifier-free guidance (core.generation.guidance): the largest weight accepted (the bench measures 0..3),
#: and the default, chosen from the guidance sweep of ``python -m bench quality`` (bench/results.md): the largest
#: weight that copies whole training progressions no more often than real songs do, genre adherence above the
#: real-data ceiling, sample perplexity below that at 0.
MAX_GUIDANCE = 5.0
DEFAULT_GUIDANCE = 1.0

_SETTING = "chordsmith.setting"


def _cpu_has_bfloat16() -> bool:
    """Whether this machine's CPU computes bfloat16 natively (elsewhere mixed precision would be slower, not faster)."""
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


#: mixed precision's default (see TrainConfig.mixed_precision): on where the CPU has bfloat16 instructions.
CPU_HAS_BFLOAT16: bool = _cpu_has_bfloat16()
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


@dataclass(frozen=True)
class Setting:
    """One setting: its type, default, accepted values, help text and command-line flags.

    ``low``/``high`` bound numbers (inclusive unless ``low_open``/``high_open``); ``optional``
    settings also accept ``None`` (an empty text reads as ``None``); with ``zero_is_none`` a 0
    means "none" too (a time budget of 0 minutes: no budget). ``flags`` overrides the command-line
    spelling (``()``: no flag; ``None``: ``--name-with-dashes``).
    """

    name: str
    kind: type
    default: Any
    help: str
    label: str = ""
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[str, ...] = ()
    optional: bool = False
    zero_is_none: bool = False
    pattern: re.Pattern[str] | None = None
    pattern_help: str = ""
    flags: tuple[str, ...] | None = None

    @property
    def cli_flags(self) -> tuple[str, ...]:
        """The flags that set this setting on the command line (empty: none)."""
        return ("--" + self.name.replace("_", "-"),) if self.flags is None else self.flags

    def check(self, value: Any) -> Any:
        """``value`` converted to this setting's type and checked; :class:`InputError` if it is not accepted.

        Numbers may come as text (command line, URL); booleans as true/false, 1/0, yes/no, on/off.
        """
        if value is None or (isinstance(value, str) and not value.strip() and (self.optional or self.kind is not str)):
            if self.optional:
                return None
            raise InputError(f"{self.label} is required: give {self.accepted()}")
        if self.kind is bool:
            return self._boolean(value)
        if self.kind is str:
            return self._text(value)
        number = self._number(value)
        if self.zero_is_none and number == 0:
            return None
        low_ok = self.low is None or (number > self.low if self.low_open else number >= self.low)
        high_ok = self.high is None or (number < self.high if self.high_open else number <= self.high)
        if not (low_ok and high_ok):
            raise self._refusal(value)
        return number

    def accepted(self) -> str:
        """What this setting accepts, in words (``a whole number from 1 to 64``)."""
        if self.kind is bool:
            return "true or false"
        if self.choices:
            return "one of " + ", ".join(self.choices)
        if self.kind is str:
            return self.pattern_help or "text"
        noun = "a whole number" if self.kind is int else "a number"
        low, high = self.low, self.high
        if low is not None and high is not None and not self.low_open and not self.high_open:
            text = f"{noun} from {_shown(low)} to {_shown(high)}"
        else:
            parts = []
            if low is not None:
                parts.append(f"above {_shown(low)}" if self.low_open else f"at least {_shown(low)}")
            if high is not None:
                parts.append(f"below {_shown(high)}" if self.high_open else f"at most {_shown(high)}")
            text = f"{noun} " + " and ".join(parts) if parts else noun
        return text + (", or 0 for none" if self.zero_is_none else "")

    def bounds(self) -> dict[str, float]:
        """The numeric limits as pydantic ``Field`` keywords (``ge``/``gt``/``le``/``lt``)."""
        out: dict[str, float] = {}
        if self.low is not None and not self.zero_is_none:
            out["gt" if self.low_open else "ge"] = self.low
        if self.high is not None:
            out["lt" if self.high_open else "le"] = self.high
        return out

    def _refusal(self, value: Any) -> InputError:
        return InputError(f"{self.label} must be {self.accepted()}, got {value!r}")

    def _boolean(self, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, numbers.Integral) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
            return value.strip().lower() in _TRUE
        raise self._refusal(value)

    def _text(self, value: Any) -> str:
        if not isinstance(value, str):
            raise self._refusal(value)
        text = value.strip()
        if self.choices:
            if text.lower() not in self.choices:
                raise InputError(f"unknown {self.label} {value!r}; accepted: {', '.join(self.choices)}")
            return text.lower()
        if self.pattern is not None and not self.pattern.match(text):
            raise InputError(f"{self.label} {value!r} is not usable: use {self.pattern_help}")
        return text

    def _number(self, value: Any) -> int | float:
        """``value`` as a finite int (whole numbers only) or float; refusals name the value."""
        if isinstance(value, bool) or not isinstance(value, numbers.Real | str):
            raise self._refusal(value)
        number: int | float
        if isinstance(value, str):
            try:
                number = int(value.strip())
            except ValueError:
                try:
                    number = float(value.strip())
                except ValueError:
                    raise self._refusal(value) from None
        else:
            number = value if isinstance(value, numbers.Integral) else float(value)
        if isinstance(number, float) and not math.isfinite(number):
            raise self._refusal(value)
        if self.kind is int:
            if isinstance(number, float) and not number.is_integer():
                raise InputError(f"{self.label} must be a whole number, got {value!r}")
            return int(number)
        return float(number)


def setting(default: Any, kind: type, help: str, **spec: Any) -> Any:
    """A dataclass field declared as a :class:`Setting` (name and label are filled in from the field)."""
    return field(default=default, metadata={_SETTING: Setting(name="", kind=kind, default=default, help=help, **spec)})


def _shown(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else repr(float(number))


class SettingsBase:
    """What the three configurations share: their settings, checking, and dict/JSON round trips."""

    @classmethod
    def settings(cls) -> dict[str, Setting]:
        """This configuration's settings by field name, in declaration order."""
        return _settings(cls)

    def validate(self) -> None:
        """Check every setting and normalise it in place (``2.0`` epochs → 2, 0 minutes → None).

        Raises :class:`InputError` naming the first value that is not accepted.
        """
        for name, spec in self.settings().items():
            object.__setattr__(self, name, spec.check(getattr(self, name)))  # frozen configurations too

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of the fields (nested configurations as nested dicts)."""
        return asdict(self)  # type: ignore[call-overload]

    def to_json(self) -> str:
        """The configuration as indented JSON (refuses NaN and infinities)."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, allow_nan=False)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any], strict: bool = False) -> Self:
        """A configuration from a dict, unchecked; unknown keys are ignored (older files) or, ``strict``, refused."""
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(values) - known)
        if strict and unknown:
            raise InputError(f"unknown setting(s): {', '.join(unknown)}; accepted: {', '.join(sorted(known))}")
        return cls(**{k: v for k, v in values.items() if k in known})

    @classmethod
    def from_json(cls, text: str, strict: bool = False) -> Self:
        """A configuration from :meth:`to_json` output (see :meth:`from_dict`)."""
        return cls.from_dict(_json_object(text), strict=strict)


@cache
def _settings(cls: type) -> dict[str, Setting]:
    out = {}
    for spec in fields(cls):
        declared = spec.metadata.get(_SETTING)
        if declared is not None:
            out[spec.name] = replace(declared, name=spec.name, label=declared.label or spec.name.replace("_", " "))
    return out


def _json_object(text: str) -> dict[str, Any]:
    try:
        values = json.loads(text)
    except ValueError as error:
        raise InputError(f"not valid JSON: {error}") from None
    except RecursionError:
        raise InputError("not a settings object: JSON nested too deeply") from None
    if not isinstance(values, dict):
        raise InputError(f"expected a JSON object of settings, got {type(values).__name__}")
    return values


# --------------------------------------------------------------------------- the model


@dataclass
class ModelConfig(SettingsBase):
    """Every choice that shapes the network; saved in ``config.json`` beside each trained model.

    The vocabulary and condition counts follow the corpus; they are stored so a model file and
    its config always agree, and have no command-line flag.
    """

    vocab_size: int = setting(VOCAB.size, int, "chord tokens, padding and markers included", low=1, flags=())
    sequence_length: int = setting(12, int, "chords per training example: a window's 12, or a song span's (32 when "
                                   "the song context is chosen without it)", low=2, high=256)
    embedding_dim: int = setting(128, int, "chord embedding size", low=1, high=2048)
    genre_embedding_dim: int = setting(16, int, "genre embedding size", low=1, high=256, flags=())
    mood_embedding_dim: int = setting(16, int, "mood embedding size", low=1, high=256, flags=())
    key_embedding_dim: int = setting(12, int, "key embedding size", low=1, high=256, flags=())
    scale_type_embedding_dim: int = setting(4, int, "scale-type embedding size", low=1, high=256, flags=())
    genre_count: int = setting(len(GENRES), int, "genre labels", low=1, flags=())
    mood_count: int = setting(len(MOODS), int, "mood labels", low=1, flags=())
    key_count: int = setting(len(KEYS), int, "key labels", low=1, flags=())
    scale_type_count: int = setting(len(SCALE_TYPES), int, "scale-type labels", low=1, flags=())
    conditioning_units: int = setting(128, int, "units of the dense layer mixing the conditions", low=1, high=4096, flags=())
    lstm_units: int = setting(256, int, "units per recurrent layer", low=1, high=4096)
    lstm_layers: int = setting(2, int, "number of recurrent layers", low=1, high=8, label="recurrent layers",
                               flags=("--layers",))
    dropout: float = setting(0.3, float, "dropout after each recurrent layer", low=0.0, high=1.0, high_open=True)
    cell: str = setting("lstm", str, "recurrent cell", choices=CELLS)
    attention: bool = setting(False, bool, "add causal self-attention after the recurrent layers")
    attention_heads: int = setting(4, int, "self-attention heads", low=1, high=64, flags=())
    condition_dropout: float = setting(0.1, float, "training-time chance of blanking each condition",
                                       low=0.0, high=1.0, high_open=True)
    chord_encoding: str = setting(KEY_RELATIVE, str, "how the model reads chords: key-relative (every window moved "
                                  "so its key's tonic is C; it learns each move once, not twelve times) or absolute "
                                  "(chord symbols as written, with random transposition; every model before model 2)",
                                  label="chord encoding", choices=CHORD_ENCODINGS)
    context: str = setting(WINDOW, str, "what the model learns from: window (the 12-chord windows of the corpus) or "
                           "song (spans of whole songs over consecutive sections, with section labels, metre and chord "
                           "durations)", choices=CONTEXTS)
    section_count: int = setting(len(SECTION_LABELS), int, "section labels (song context)", low=1, flags=())
    section_embedding_dim: int = setting(8, int, "section-label embedding size (song context)", low=1, high=256,
                                         flags=())
    metre_count: int = setting(len(METRES) + 1, int, "metre classes (song context)", low=1, flags=())
    metre_embedding_dim: int = setting(4, int, "metre embedding size (song context)", low=1, high=256, flags=())
    duration_count: int = setting(len(DURATION_BEATS) + 1, int, "chord-duration classes (song context)", low=1,
                                  flags=())
    duration_loss_weight: float = setting(0.5, float, "weight of the chord-duration loss beside the chord loss (song "
                                          "context; the chord loss alone is monitored)", low=0.0, high=10.0, flags=())

    @property
    def song_context(self) -> bool:
        """Whether the model reads section labels and metre and predicts chord durations (``context == "song"``)."""
        return self.context == SONG

    def recurrent_layer_names(self) -> list[str]:
        """Names of the recurrent layers in order: ``lstm_1``, ``lstm_2`` (``gru_1``… for GRU)."""
        return [f"{self.cell}_{i}" for i in range(1, self.lstm_layers + 1)]


#: a window model's length (the setting's default).
_WINDOW_LENGTH = int(ModelConfig.settings()["sequence_length"].default)


# --------------------------------------------------------------------------- training


@dataclass
class TrainConfig(SettingsBase):
    """One training run: optimisation settings, limits and the model config (``model``).

    A run folder's ``config.json`` holds it under ``"train"`` (model config nested);
    ``python -m core train --config PATH`` reads such a file or a bare :meth:`to_json`.
    """

    batch_size: int = setting(64, int, "windows per batch (global: split across replicas)", low=1, high=8192)
    epochs: int = setting(12, int, "most epochs to run (early stopping may end sooner); the cosine schedule decays "
                          "over them", low=1, high=10_000)
    lr: float = setting(8e-3, float, "Adam learning rate (the peak of the cosine schedule)", label="learning rate",
                        low=0.0, low_open=True, high=1.0, high_open=True)
    schedule: str = setting("cosine", str, "learning-rate schedule: cosine (linear warm-up to the learning rate, then "
                            "cosine decay to a hundredth of it by the last epoch) or constant (the guide: the learning "
                            "rate, halved when val_loss stalls)", choices=SCHEDULES)
    warmup_epochs: float = setting(0.3, float, "epochs of linear learning-rate warm-up (cosine schedule)",
                                   label="warm-up epochs", low=0.0, high=1000.0)
    jit_compile: bool = setting(False, bool, "compile the training step with XLA")
    mixed_precision: bool = setting(CPU_HAS_BFLOAT16, bool, "bfloat16 mixed-precision training (weights, output and loss "
                                    "stay float32; the saved model is float32); default on where the CPU has bfloat16 "
                                    "instructions (AVX-512 BF16 or AMX)",
                                    flags=("--no-mixed-precision",) if CPU_HAS_BFLOAT16 else ("--mixed-precision",))
    seed: int = setting(42, int, "random seed for weights, shuffling and augmentation", low=0, high=MAX_SEED)
    run_name: str | None = setting(None, str, "run folder name under output/runs/ (default run-YYYYmmdd-HHMMSS)",
                                   optional=True, pattern=RUN_NAME_PATTERN,
                                   pattern_help="letters, digits, '.', '_' or '-', starting with a letter or digit "
                                   "(at most 64, no spaces)")
    augment: bool = setting(True, bool, "random transposition of training windows (absolute chord encoding only: "
                            "key-relative windows are all in C)", flags=("--no-augment",))
    substitution_rate: float = setting(0.0, float, "chance that each chord of a training window is replaced by a "
                                       "substitute (relative major/minor, tritone substitute of a dominant, seventh added "
                                       "or dropped)", label="substitution rate", low=0.0, high=1.0)
    curriculum: str = setting("none", str, "how training windows grow: none (whole from the start) or short-first "
                              "(cut to a growing number of chords over the first curriculum epochs)", choices=CURRICULA)
    curriculum_epochs: int = setting(3, int, "short-first curriculum: epochs with cut windows (whole from the next one)",
                                     low=1, high=1000)
    max_minutes: float | None = setting(None, float, "stop cleanly after this many minutes of training",
                                        label="time budget (minutes)", low=0.0, low_open=True, optional=True,
                                        zero_is_none=True, flags=("--max-epochs-minutes", "--max-minutes"))
    max_train_windows: int | None = setting(None, int, "train (and validate) on a seeded sample of this many windows",
                                            label="train-window slice", low=1, optional=True, zero_is_none=True)
    early_stopping_patience: int = setting(10, int, "epochs without a better val_loss before stopping", low=1,
                                           high=10_000, flags=())
    reduce_lr_patience: int = setting(5, int, "epochs without a better val_loss before halving the learning rate",
                                      low=1, high=10_000, flags=())
    write_reports: bool = setting(True, bool, "write test_results.json and generated_samples.json at the end",
                                  flags=("--no-reports",))
    strategy: str = setting("default", str, "tf.distribute strategy: one device (default), every local GPU (mirrored), "
                            "or the machines in TF_CONFIG (multiworker; only the chief writes the run)", choices=STRATEGIES)
    cpu_replicas: int | None = setting(None, int, "with --strategy mirrored: split the CPU into N logical devices",
                                       low=1, high=64, optional=True)
    init_from: str | None = setting(None, str, "fine-tune: start from this trained model's weights (a run name, a run "
                                    "or models/ folder, or a .keras file); the architecture is that model's own",
                                    label="start from", optional=True)
    freeze_embeddings: bool = setting(False, bool, "with --init-from: keep the chord and condition embeddings as they are")
    corpus_table: str | None = setting(None, str, "progression table to train on (a .csv.gz in the corpus layout, such "
                                       "as one 'data import' wrote); default: the shipped corpus", label="table",
                                       optional=True, flags=("--table",))
    genre: str | None = setting(None, str, "train and evaluate only on the table's songs of this genre",
                                label="genre subset", optional=True, choices=GENRES[1:])
    source: str | None = setting(None, str, "train and evaluate only on the table's songs from this source",
                                 label="source subset", optional=True,
                                 pattern=re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$"),
                                 pattern_help="a source name such as jazz-standards, pop909 or user "
                                 "(lower-case letters, digits, - or _)")
    mood: str | None = setting(None, str, "train and evaluate only on the table's songs of this mood",
                               label="mood subset", optional=True, choices=MOODS[1:])
    model: ModelConfig = field(default_factory=ModelConfig)

    def validate(self) -> None:
        """Check every setting (the model's too); :class:`InputError` for the first bad value or combination."""
        super().validate()
        if self.cpu_replicas is not None and self.strategy != "mirrored":
            raise InputError("--cpu-replicas only applies to --strategy mirrored")
        if self.freeze_embeddings and self.init_from is None:
            raise InputError("--freeze-embeddings only applies to fine-tuning (--init-from)")
        self.model.validate()

    def subset(self) -> dict[str, str]:
        """The subset filters set (``{"genre": "jazz"}``); empty: the whole table."""
        return {name: value for name in ("genre", "source", "mood") if (value := getattr(self, name)) is not None}

    @classmethod
    def from_dict(cls, values: Mapping[str, Any], strict: bool = False) -> Self:
        """Config from :meth:`to_dict` output or a run's whole ``config.json`` (its ``"train"`` part), unchecked.

        Unknown keys are ignored so older files still load, or refused when ``strict``. A run's
        ``config.json`` from before a setting existed gets the value that run was trained with
        (:data:`BEFORE_SETTING`), not today's default.
        """
        saved_run = isinstance(values.get("train"), dict)
        if saved_run:
            values = {**BEFORE_SETTING, **values["train"]}
        model = values.get("model") or {}
        if not isinstance(model, Mapping):
            raise InputError(f"'model' must be an object of model settings, got {model!r}")
        if saved_run:
            model = {**MODEL_BEFORE_SETTING, **model}
        config = super().from_dict({k: v for k, v in values.items() if k != "model"}, strict=strict)
        config.model = ModelConfig.from_dict(model, strict=strict)
        return config

    @classmethod
    def from_file(cls, path: str | Path) -> Self:
        """The checked config in a JSON file (a run's ``config.json`` or :meth:`to_json` output); unknown keys refused."""
        from core.bounded_reads import read_bounded_text

        path = Path(path)
        text = read_bounded_text(path, MAX_CONFIG_BYTES, "the config file")  # binary, not UTF-8, huge: one line
        try:
            config = cls.from_dict(_json_object(text), strict=True)
            config.validate()
        except (InputError, TypeError) as error:
            raise InputError(f"{path}: {error}") from None
        return config

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> Self:
        """The checked config from one flat mapping of training and model settings (the Training form's values).

        Missing settings keep their defaults; unknown names are refused, so a typo never
        silently trains the default.
        """
        model_names = set(ModelConfig.settings())
        unknown = sorted(set(values) - set(cls.settings()) - model_names)
        if unknown:
            accepted = ", ".join([*cls.settings(), *ModelConfig.settings()])
            raise InputError(f"unknown training setting(s): {', '.join(unknown)}; accepted: {accepted}")
        model_values = {k: v for k, v in values.items() if k in model_names}
        if str(model_values.get("context", "")).strip().lower() == SONG and "sequence_length" not in model_values:
            model_values["sequence_length"] = SONG_SEQUENCE_LENGTH  # a song span, not a window, when none is given
        model = ModelConfig(**model_values)
        config = cls(**{k: v for k, v in values.items() if k not in model_names}, model=model)
        config.validate()
        return config

    def updated(self, values: Mapping[str, Any]) -> Self:
        """A checked copy with ``values`` (flat training and model settings) replacing this config's."""
        model = self.model.to_dict()
        if (str(values.get("context", "")).strip().lower() == SONG and model["context"] != SONG
                and "sequence_length" not in values and model["sequence_length"] == _WINDOW_LENGTH):
            del model["sequence_length"]  # switched to the song context: its span length, not a window's
        flat = {**{k: v for k, v in self.to_dict().items() if k != "model"}, **model, **values}
        return type(self).from_values(flat)


#: what runs trained before these settings existed did (read for a run's config.json that lacks them).
BEFORE_SETTING: dict[str, Any] = {"schedule": "constant", "warmup_epochs": 0.0, "mixed_precision": False}
MODEL_BEFORE_SETTING: dict[str, Any] = {"chord_encoding": "absolute", "context": WINDOW}
#: a song-context model's span length when none is given (a window model's is the setting's default, 12).
SONG_SEQUENCE_LENGTH = 32
#: the settings a training recipe fixes (everything else keeps its value).
RECIPE_SETTINGS: tuple[str, ...] = ("batch_size", "lr", "schedule", "warmup_epochs", "epochs", "jit_compile",
                                    "mixed_precision")
#: named training recipes (``train --recipe NAME``; flags given beside it override it): ``studio`` is the
#: defaults above (the fastest route to a good model measured on a 2-core CPU, see bench/results.md),
#: ``guide`` the design guide's batch 32, Adam at 1e-3 halved on plateaus, 50 epochs.
RECIPES: dict[str, dict[str, Any]] = {
    "studio": {name: TrainConfig.settings()[name].default for name in RECIPE_SETTINGS},
    "guide": {"batch_size": 32, "lr": 1e-3, "schedule": "constant", "warmup_epochs": 0.0, "epochs": 50,
              "jit_compile": False, "mixed_precision": False},
}


# --------------------------------------------------------------------------- generation


#: the sampling defaults, chosen with ``python -m bench.sampling_sweep`` (README, "Sampling defaults"): at the default
#: guidance, T = 1.2 with top-p 0.95 is the row whose progressions are as surprising to the model as real songs
#: (sample perplexity 12.4 vs 14.6; T = 1 gives 9.1) with as many unlikely chords (14.9 % below p = 1 % vs 14.2 %),
#: while copying fewer whole training progressions than real songs do (5.9 % vs 9.3 %); top-p drops the last 5 %.
DEFAULT_TEMPERATURE = 1.2
DEFAULT_TOP_P = 0.95


@dataclass(frozen=True)
class GenerationSettings(SettingsBase):
    """The sampling settings of one generation request, shared by the CLI, the API, the Generate page and the library.

    Checked once, when it is built (:class:`InputError` naming the first value refused), and frozen:
    each surface builds one from what it read and hands that object inward unchanged; its defaults
    are the library's defaults (``core.generation.generate.generate``). Seed chords and locks are
    progressions, not settings: their count is bounded by ``length``.
    """

    length: int = setting(8, int, "most chords per progression", low=1, high=64)
    num_samples: int = setting(1, int, "how many progressions", label="number of samples", low=1, high=100)
    temperature: float = setting(DEFAULT_TEMPERATURE, float, "lower is safer, higher more adventurous", low=0.05,
                                 high=5.0)
    top_k: int = setting(0, int, "sample among the k most likely chords; 0 = off", label="top-k", low=0, high=VOCAB.size)
    top_p: float = setting(DEFAULT_TOP_P, float, "sample among the most likely chords reaching this probability mass; "
                           "1 = off", label="top-p", low=0.01, high=1.0)
    random_seed: int | None = setting(None, int, "seed for reproducible samples (default: a fresh draw)",
                                      label="random seed", low=0, high=MAX_SEED, optional=True)
    in_key: bool = setting(False, bool, "only chords inside the key's scale (needs a key)")
    gibbs_passes: int = setting(1, int, "resampling passes around locked chords", label="Gibbs passes", low=1, high=4)
    let_model_end: bool = setting(False, bool, "let the model end a progression before its length (otherwise every "
                                  "progression has exactly that many chords)", label="let the model end it")
    guidance: float = setting(DEFAULT_GUIDANCE, float, "how strongly the progressions lean toward the requested genre and "
                              "mood (classifier-free guidance; 0 = the model as trained)", low=0.0, high=MAX_GUIDANCE)

    def __post_init__(self) -> None:
        self.validate()


@dataclass
class ComposerSettings(SettingsBase):
    """The composer's own setting ("what comes next?"); its conditions and in-key switch are generation's."""

    top: int = setting(10, int, "how many ranked chords to give", label="top", low=1,
                       high=sum(chord is not None for chord in VOCAB.chords))


#: most chords in one progression, on every surface: generated (the length limit), typed as seed chords or locks, or
#: scored and analysed (``score``, ``POST /score``, the Analyze panel); far past the 11-chord windows the model learnt from.
MAX_CHORDS = int(GenerationSettings.settings()["length"].high)

#: sampling from the model's own next-chord distribution: temperature 1, no top-k or top-p cut. The library samples
#: with :class:`GenerationSettings`' defaults, as every surface does; evaluation and benchmarks that measure the model
#: as trained ask for this by name (``generate(..., guidance=0.0, **MODEL_DISTRIBUTION)``).
MODEL_DISTRIBUTION: dict[str, float] = {"temperature": 1.0, "top_k": 0, "top_p": 1.0}



# --------------------------------------------------------------------------- songs

#: time signatures a song may be written in: beats per bar / the note that is one beat (core.song.form).
TIME_SIGNATURES: tuple[str, ...] = ("4/4", "3/4", "2/4", "5/4", "6/8", "12/8")
#: one song's limits, shared by the CLI, the API and the Generate page's song mode: most sections, most bars of
#: one section and of the whole song, most chords in one section (a section is drawn as one progression, with its
#: context before it, so its chords and context stay within a progression's length limit).
MAX_SONG_SECTIONS = 16
MAX_SECTION_BARS = 32
MAX_SONG_BARS = 256
MAX_SECTION_CHORDS = 32
#: how many chords of the section before one a section is drawn after (its context, not part of it).
SONG_CONTEXT_CHORDS = 4
#: tempo limits of a song (beats per minute), and its default.
SONG_TEMPO_LOW, SONG_TEMPO_HIGH, DEFAULT_SONG_TEMPO = 40, 240, 100
DEFAULT_FORM = "Intro Verse Chorus Verse Chorus Bridge Chorus Outro"


@dataclass
class SongSettings(SettingsBase):
    """A song's shape: its form, bars per section, time signature and tempo (checked when built).

    The form's words and the bars are read by :mod:`core.song.form` (unknown section names, too many
    sections, bars that do not fit are refused there with the same limits); the sampling settings
    are a :class:`GenerationSettings`' (its ``length`` and ``num_samples`` are the song's own).
    """

    form: str = setting(DEFAULT_FORM, str, "the sections in order, e.g. 'Intro Verse Chorus Verse Chorus Outro' "
                        "(a returning section repeats the first one's chords; end a name with ' for a variation, e.g. Chorus')")
    bars: str | None = setting(None, str, "bars per section, comma-separated, one per section of the form "
                               "(default: each section's usual length)", optional=True)
    time_signature: str = setting("4/4", str, "the time signature", label="time signature", choices=TIME_SIGNATURES,
                                  flags=("--time",))
    tempo: int = setting(DEFAULT_SONG_TEMPO, int, "beats per minute (audio and MIDI)", low=SONG_TEMPO_LOW,
                         high=SONG_TEMPO_HIGH)

    def __post_init__(self) -> None:
        self.validate()


# --------------------------------------------------------------------------- every setting by name


def _all_settings() -> dict[str, Setting]:
    merged: dict[str, Setting] = {}
    for config in (ModelConfig, TrainConfig, GenerationSettings, ComposerSettings, SongSettings):
        for name, spec in config.settings().items():
            if name in merged:
                raise RuntimeError(f"setting {name!r} is declared twice")  # a programming error, caught at import
            merged[name] = spec
    return merged


#: every setting of the three configurations, by field name.
SETTINGS: dict[str, Setting] = _all_settings()


def check(name: str, value: Any) -> Any:
    """``value`` checked and converted for the setting called ``name`` (:class:`InputError` if refused)."""
    return SETTINGS[name].check(value)


# --------------------------------------------------------------------------- resource limits
# Every bound on what one input may cost, in one place (docs/reliability.md lists them): the readers, the CLI,
# the HTTP API and the pages all take their limit from here, so no input can take the machine's memory or minutes.

#: most bytes of one imported song file (a chord chart, ChordPro, MusicXML, .mxl or MIDI file) as it arrives.
MAX_IMPORT_FILE_BYTES = 2_000_000
#: an ``.mxl`` (compressed MusicXML) archive: most entries, and most bytes once unpacked, all entries together.
MAX_MXL_ENTRIES = 64
MAX_MXL_UNPACKED_BYTES = 20_000_000
#: most chord symbols (``<harmony>``) and notes (``<note>``) one MusicXML file may hold: music21 reads a chord symbol
#: in about 7 ms, so 1,000 take seconds, not minutes (a song has a few hundred at most).
MAX_MUSICXML_CHORD_SYMBOLS = 1_000
MAX_MUSICXML_NOTES = 20_000
#: most notes (note-on events) and events of any kind one MIDI file may hold: chords are found from simultaneous
#: notes (music21's chordify, which grows faster than the notes do); 5,000 notes take seconds.
MAX_MIDI_NOTES = 5_000
MAX_MIDI_EVENTS = 50_000
#: a ``.keras`` model archive: most entries, most bytes of each JSON member (``config.json``, ``metadata.json``)
#: once unpacked, and most bytes of all members unpacked (the largest network the settings allow fits).
MAX_MODEL_ENTRIES = 64
MAX_MODEL_JSON_BYTES = 10_000_000
MAX_MODEL_UNPACKED_BYTES = 8_000_000_000
#: the inference weights beside a model (``model.inference.npz``): most arrays (a few per layer).
MAX_WEIGHTS_ARRAYS = 64
#: most bytes of a small file the studio keeps for itself: the active-model pointer (one folder path), a run's JSON
#: files; and of a training config given with ``train --config``.
MAX_POINTER_BYTES = 4_096
MAX_SMALL_JSON_BYTES = 10_000_000
MAX_CONFIG_BYTES = 1_000_000
#: most bytes of a run's metrics.jsonl the studio reads (a real run writes a few hundred bytes an epoch).
MAX_METRICS_BYTES = 64_000_000
#: most decoder row-steps one generation request may cost (core.generation.locks.request_work: the locked sampler's
#: passes, twice over under guidance), on every surface alike: the command line, the HTTP API, the Generate page.
#: About 26 µs a step on one core: a few seconds; a plain request of 100 × 64 chords costs 12,800 (25,600 guided).
MAX_GENERATION_WORK = 250_000
#: the HTTP API: most bytes of a request body (a bigger one is answered 413 before it is read), most seconds a
#: request may take before it is answered 504, and most characters of a refused input echoed back in a 422.
MAX_API_BODY_BYTES = 1_000_000
API_REQUEST_SECONDS = 60.0
MAX_ECHOED_CHARS = 80


# --------------------------------------------------------------------------- sharing: the owner, visitors, the API key
# Who may do what when the studio or the API is shared (docs/sharing.md; studio.access, core.credentials).

#: addresses only this machine reaches: bound to one with no owner password, the studio's one local user is its
#: owner, and the API needs no key; bound anywhere else, the studio is visitors-only until a password is set, and the
#: API asks for its key unless it is started explicitly open.
LOCAL_ADDRESSES: tuple[str, ...] = ("127.0.0.1", "localhost", "::1")
#: a signed-in owner idle this long (minutes) is a visitor again; the environment variable
#: CHORDSMITH_OWNER_IDLE_MINUTES overrides it.
OWNER_IDLE_MINUTES = 30.0
#: wrong passwords allowed within SIGN_IN_WINDOW_S from one browser address, and from all together, before
#: sign-in refuses further tries until the oldest leaves the window.
SIGN_IN_ATTEMPTS = 5
SIGN_IN_ATTEMPTS_ALL = 20
SIGN_IN_WINDOW_S = 300.0
#: a visitor's budget of heavy Generate work, in decoder row-steps (core.generation.locks.lock_work, the unit the
#: API admits by): the budget refills at VISITOR_WORK_PER_S and holds at most VISITOR_WORK_BUDGET, so a burst of
#: big requests is refused with a message while ordinary clicks (a few thousand row-steps each) never are.
VISITOR_WORK_BUDGET = 600_000
VISITOR_WORK_PER_S = 10_000
#: Analyze's input: most characters a visitor may submit at once (the chords are capped at MAX_CHORDS anyway).
MAX_ANALYZE_CHARACTERS = 2_000
