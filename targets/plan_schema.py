"""The plan file's schema (DESIGN §7): one form per node — unit, plan, area, target, milestone.

Each node is a mapping of the file; its form lists the keys the node may hold and reads each
into the model field it fills. A field takes its length, digits, range, pattern, default and
nullability from that model field, so that what the database would refuse is refused here
first, in the file's words. The values come in as the YAML reader made them — text, numbers,
dates, booleans, or a list where a word belongs — never as the strings of a web form.

What spans nodes (codes that repeat, units that loop, what the database already holds) is the
reader's, ``targets.services.plans``; the forms check one node, given what it may refer to.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import DecimalValidator, ProhibitNullCharactersValidator
from django.db import models
from django.forms.forms import NON_FIELD_ERRORS
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from targets import rules
from targets.models import Area, Milestone, Plan, Target, Unit, code_validator
from targets.plan_yaml import Located, shown


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()  # a key the node does not have (unlike ``key: null``)

# C0 and C1 control characters but tab and line breaks, and lone surrogates (which a
# double-quoted "\ud800" makes and no database encoding can store).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)")
_WHOLE_NUMBER = re.compile(r"[+-]?\d{1,18}")


def is_code(value: Any) -> bool:
    """Whether ``value`` is a well-formed code (a label may quote it as it is)."""
    if not isinstance(value, str) or len(value) > 40:
        return False
    try:
        code_validator(value)
    except ValidationError:
        return False
    return True


def no_control_characters(value: str) -> None:
    found = _CONTROL.search(value)
    if found:
        raise ValidationError(
            _("contains a control character (U+%(code)s): remove it"),
            code="control",
            params={"code": f"{ord(found.group()):04X}"},
        )


# --- fields: one key of a node into one model field ------------------------------------


class FileInput(forms.Widget):
    """Hands the field the file's value as it is, or MISSING when the node lacks the key."""

    def value_from_datadict(self, data: dict, files: Any, name: str) -> Any:
        return data.get(name, MISSING)


class FileField(forms.Field):
    """Reads one key into the model field ``name`` of ``model``, with that field's validators
    (length, digits, range, pattern), its default where the key is missing or empty, and
    ``None`` for ``key: null`` where the field may be null."""

    widget = FileInput
    default_error_messages = {"required": _("is required")}
    replaced_validators: ClassVar[tuple[type, ...]] = ()  # checked by the field itself

    def __init__(self, model: type[models.Model], name: str, **kwargs: Any) -> None:
        db_field = model._meta.get_field(name)
        self.nullable = db_field.null
        self.default = db_field.get_default()
        super().__init__(
            required=not (db_field.blank or db_field.has_default()),
            validators=db_field.validators,
            **kwargs,
        )
        self.validators = [
            v for v in self.validators if not isinstance(v, self.replaced_validators)
        ]

    def __deepcopy__(self, memo: dict) -> FileField:
        return self  # no state per form: a form per node need not copy two dozen fields

    def clean(self, value: Any) -> Any:
        if value is None and self.nullable:
            return None
        if value is MISSING or value is None or (isinstance(value, str) and not value.strip()):
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return self.default
        return super().clean(value)

    def run_validators(self, value: Any) -> None:
        try:
            super().run_validators(value)
        except ValidationError as error:
            for each in error.error_list:  # quote the value short and printable
                if each.params and "value" in each.params:
                    each.params = {**each.params, "value": shown(each.params["value"])}
            raise

    def invalid(self, value: Any, code: str = "invalid", **params: Any) -> ValidationError:
        return ValidationError(
            self.error_messages[code], code=code, params={"value": shown(value), **params}
        )


class Text(FileField, forms.CharField):
    default_error_messages = {
        "type": _("must be text"),
        "max_length": _("is %(show_value)s characters long: at most %(limit_value)s"),
    }
    replaced_validators = (ProhibitNullCharactersValidator,)

    def __init__(self, model: type[models.Model], name: str, **kwargs: Any) -> None:
        super().__init__(model, name, **kwargs)
        self.validators.append(no_control_characters)

    def to_python(self, value: Any) -> str:
        if isinstance(value, dict | list):
            raise ValidationError(self.error_messages["type"], code="type")
        return str(value).strip()


class Code(Text):
    default_error_messages = {
        "invalid": _("“%(value)s”: use letters, digits, '.', '_' and '-' only"),
    }

    def __init__(self, model: type[models.Model], name: str, **kwargs: Any) -> None:
        super().__init__(model, name, **kwargs)
        self.validators.remove(no_control_characters)  # the pattern says it already


class Url(Text):
    default_error_messages = {"invalid": _("“%(value)s” is not a web address")}


class Ref(Text):
    """The code of another node (or a username): known to the file or to the database."""

    def __init__(self, model: type[models.Model], name: str, *, among: str, unknown: str):
        super().__init__(model, name)
        self.among = among
        self.unknown = unknown


class Number(FileField, forms.DecimalField):
    """A number in plain notation (1234.5) whatever the language: plan files are shared.
    A fraction's padding zeros do not count against its digits (1.50000 is 1.5)."""

    default_error_messages = {
        "invalid": _("“%(value)s” is not a number."),
        "digits": _(
            "%(value)s has too many digits (at most %(whole)s before and %(decimals)s after "
            "the point)."
        ),
    }
    replaced_validators = (DecimalValidator,)

    def __init__(self, model: type[models.Model], name: str, **kwargs: Any) -> None:
        db_field = model._meta.get_field(name)
        super().__init__(
            model, name, max_digits=db_field.max_digits,
            decimal_places=db_field.decimal_places, **kwargs,
        )

    def to_python(self, value: Any) -> Decimal:
        if isinstance(value, Decimal):
            number = value
        elif isinstance(value, int) and not isinstance(value, bool):
            number = Decimal(value)
        elif isinstance(value, float):
            number = Decimal(repr(value))
        elif isinstance(value, str) and _PLAIN_NUMBER.fullmatch(value.strip()):
            number = Decimal(value.strip())
        else:
            raise self.invalid(value)
        if not number.is_finite():
            raise self.invalid(value)
        return number

    def validate(self, value: Decimal) -> None:
        whole, decimals = self.places(value)
        whole_places = self.max_digits - self.decimal_places
        if whole > whole_places or decimals > self.decimal_places:
            raise self.invalid(
                value, "digits", whole=whole_places, decimals=self.decimal_places
            )

    @staticmethod
    def places(value: Decimal) -> tuple[int, int]:
        """The digits of a finite ``value`` before and after the point, not counting zeros
        that only pad the fraction."""
        _sign, digits, exponent = value.as_tuple()
        assert isinstance(exponent, int)
        text = "".join(map(str, digits))
        significant = text.rstrip("0")
        if not significant:
            return 1, 0
        padding = min(len(text) - len(significant), max(-exponent, 0))
        return max(len(text) + exponent, 0), max(-(exponent + padding), 0)

class Whole(FileField, forms.IntegerField):
    def to_python(self, value: Any) -> int:
        if isinstance(value, Decimal) and value.is_finite():  # 15.0, or 1.5e+3
            whole, decimals = Number.places(value)
            if whole <= 18 and decimals == 0:
                return int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value.strip()):
            return int(value.strip())
        raise self.invalid(value)


class Day(FileField, forms.DateField):
    default_error_messages = {
        "invalid": _("“%(value)s” is not a date (YYYY-MM-DD)"),
        "bounds": _("%(date)s lies outside the years a plan may span (%(first)s – %(last)s)"),
    }

    def to_python(self, value: Any) -> dt.date:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                pass
        raise self.invalid(value)

    def validate(self, value: dt.date) -> None:
        if not (rules.EARLIEST_DATE <= value <= rules.LATEST_DATE):
            raise ValidationError(
                self.error_messages["bounds"], code="bounds",
                params={"date": value, "first": rules.EARLIEST_DATE, "last": rules.LATEST_DATE},
            )


class Choice(FileField, forms.ChoiceField):
    default_error_messages = {"invalid_choice": _("“%(value)s” is not one of %(choices)s")}

    def __init__(self, model: type[models.Model], name: str) -> None:
        super().__init__(model, name, choices=model._meta.get_field(name).choices)

    def validate(self, value: str) -> None:
        if not self.valid_value(value):
            raise self.invalid(
                value, "invalid_choice", choices=", ".join(str(k) for k, _v in self.choices)
            )


class Flag(FileField, forms.Field):
    default_error_messages = {"invalid": _("must be true or false")}

    def to_python(self, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        raise self.invalid(value)


# --- nodes ------------------------------------------------------------------------------


@dataclass
class Known:
    """What a node may refer to, from the file and from the database."""

    units: set[str] = field(default_factory=set)
    owners: set[str] = field(default_factory=set)
    areas: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class NodeProblem:
    key: str  # as the file writes it: ``target.value``
    line: int
    message: str


class NodeForm(forms.Form):
    """One node of the file.

    ``keys`` maps the file's keys to the fields that read them where the names differ
    (``baseline.value`` is a key of the mapping under ``baseline``); ``sections`` are those
    nested mappings, with the problem to report when one is not a mapping (or is missing,
    if it is in ``required_sections``); ``lists`` are the keys holding lists of child nodes,
    which the reader checks node by node.
    """

    keys: ClassVar[dict[str, str]] = {}
    sections: ClassVar[dict[str, str]] = {}
    required_sections: ClassVar[tuple[str, ...]] = ()
    lists: ClassVar[tuple[str, ...]] = ()

    def __init__(self, node: Located, *, known: Known | None = None, **context: Any) -> None:
        self.node = node
        self.known = known or Known()
        self.context = context
        renamed = set(self.keys.values())
        self.file_keys = {
            **{name: name for name in self.base_fields if name not in renamed}, **self.keys,
        }
        self.lines: dict[str, int] = {}
        self.shape_problems: list[NodeProblem] = []
        data, dropped = self._flatten(node)
        super().__init__(data=data)
        for name in dropped:
            del self.fields[name]

    def _flatten(self, node: Located) -> tuple[dict[str, Any], set[str]]:
        """The node's values by field name, with their lines; the fields of sections that
        are not mappings are dropped (one problem for the section says why)."""
        data: dict[str, Any] = {}
        dropped: set[str] = set()
        self._repeated(node, "")
        for section, message in self.sections.items():
            value = node.get(section)
            line = node.key_lines.get(section, node.line)
            if isinstance(value, Located):
                self._repeated(value, f"{section}.")
                for key, item in value.items():
                    self._take(data, f"{section}.{key}", item, value.key_lines[key])
            elif value is not None or section in self.required_sections:
                self.shape_problems.append(NodeProblem(section, line, str(message)))
                dropped |= {
                    name for key, name in self.file_keys.items() if key.startswith(f"{section}.")
                }
            for key, name in self.file_keys.items():
                if key.startswith(f"{section}."):
                    self.lines.setdefault(name, line)
        for key, item in node.items():
            if key not in self.sections and key not in self.lists:
                self._take(data, key, item, node.key_lines[key])
        for name in self.file_keys.values():
            self.lines.setdefault(name, node.line)
        return data, dropped

    def _take(self, data: dict[str, Any], key: str, value: Any, line: int) -> None:
        name = self.file_keys.get(key)
        if name is None:
            self.shape_problems.append(NodeProblem(shown(key), line, gettext("unknown field")))
            return
        data[name] = value
        self.lines[name] = line

    def _repeated(self, mapping: Located, prefix: str) -> None:
        for key, line in mapping.repeated:
            self.shape_problems.append(
                NodeProblem(shown(prefix + key), line, gettext("appears twice in this mapping"))
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for name, each in self.fields.items():
            value = data.get(name)
            if isinstance(each, Ref) and value and value not in getattr(self.known, each.among):
                self.add_error(name, each.unknown % {"code": shown(value), "name": shown(value)})
        return data

    def problems(self) -> list[NodeProblem]:
        """Every problem of the node, each with the key and the line it belongs to."""
        self.is_valid()
        keys = {name: key for key, name in self.file_keys.items()}
        found = list(self.shape_problems)
        for name, errors in self.errors.as_data().items():
            line = self.lines.get(name, self.node.line)
            key = "" if name == NON_FIELD_ERRORS else keys[name]
            found += [NodeProblem(key, line, message) for error in errors for message in error]
        return found

    def line(self, name: str) -> int:
        return self.lines.get(name, self.node.line)


class UnitNode(NodeForm):
    code = Code(Unit, "code")
    name = Text(Unit, "name")
    name_en = Text(Unit, "name_en")
    parent = Ref(Unit, "parent", among="units", unknown=_("unknown unit “%(code)s”"))


def _working_days(model: type[models.Model]) -> Whole:
    return Whole(
        model, "deadline_working_days",
        error_messages={
            "invalid": _("“%(value)s” is not a whole number of working days ≥ 0"),
            "min_value": _("“%(value)s” is not a whole number of working days ≥ 0"),
            "max_value": _("%(value)s working days: at most %(limit_value)s"),
        },
    )


class PlanNode(NodeForm):
    code = Code(Plan, "code")
    name = Text(Plan, "name")
    name_en = Text(Plan, "name_en")
    unit = Ref(Plan, "unit", among="units", unknown=_("unknown unit “%(code)s”"))
    start = Day(Plan, "start")
    end = Day(Plan, "end")
    reporting_calendar = Choice(Plan, "reporting_calendar")
    deadline_working_days = _working_days(Plan)
    lists = ("areas", "targets")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and end <= start:
            self.add_error("end", gettext("the plan must end after it starts"))
        return data


class AreaNode(NodeForm):
    code = Code(Area, "code")
    name = Text(Area, "name")
    name_en = Text(Area, "name_en")


class TargetNode(NodeForm):
    code = Code(Target, "code")
    name = Text(Target, "name")
    name_en = Text(Target, "name_en")
    description = Text(Target, "description")
    description_en = Text(Target, "description_en")
    area = Ref(
        Target, "area", among="areas",
        unknown=_("unknown area “%(code)s” (not in the plan's areas)"),
    )
    responsible_unit = Ref(
        Target, "responsible_unit", among="units", unknown=_("unknown unit “%(code)s”")
    )
    owner = Ref(Target, "owner", among="owners", unknown=_("unknown user “%(name)s”"))
    measure = Text(Target, "measure")
    measure_en = Text(Target, "measure_en")
    value_type = Choice(Target, "value_type")
    direction = Choice(Target, "direction")
    aggregation = Choice(Target, "aggregation")
    trajectory = Choice(Target, "trajectory")
    baseline_value = Number(Target, "baseline_value")
    baseline_date = Day(Target, "baseline_date")
    target_value = Number(Target, "target_value")
    due_date = Day(Target, "due_date")
    min_value = Number(Target, "min_value")
    max_value = Number(Target, "max_value")
    frequency = Choice(Target, "frequency")
    deadline_working_days = _working_days(Target)
    grace_days = Whole(
        Target, "grace_days",
        error_messages={
            "invalid": _("“%(value)s” is not a whole number of days ≥ 0"),
            "min_value": _("“%(value)s” is not a whole number of days ≥ 0"),
            "max_value": _("%(value)s days: at most %(limit_value)s"),
        },
    )
    tolerance = Number(
        Target, "tolerance",
        error_messages={
            "min_value": _("%(value)s is not between 0 and 0.5"),
            "max_value": _("%(value)s is not between 0 and 0.5"),
        },
    )
    source_text = Text(Target, "source_text")
    source_url = Url(Target, "source_url")
    illustrative = Flag(Target, "illustrative")

    keys = {
        "baseline.value": "baseline_value",
        "baseline.date": "baseline_date",
        "target.value": "target_value",
        "target.date": "due_date",
        "min": "min_value",
        "max": "max_value",
        "source.text": "source_text",
        "source.url": "source_url",
    }
    sections = {
        "baseline": _("is required: {value: …, date: YYYY-MM-DD}"),
        "target": _("is required: {value: …, date: YYYY-MM-DD}"),
        "source": _("must be {text: …, url: …}"),
    }
    required_sections = ("baseline", "target")
    lists = ("milestones",)

    def _take(self, data: dict[str, Any], key: str, value: Any, line: int) -> None:
        if key == "reporting_calendar":
            self.shape_problems.append(NodeProblem(key, line, gettext(
                "is the plan's: every target of a plan reports on the plan's calendar"
            )))
            return
        super()._take(data, key, value, line)

    def calendar(self) -> rules.Calendar:
        """The plan's reporting calendar (``plan`` in the context: its checked values)."""
        chosen = self.context.get("plan", {}).get("reporting_calendar")
        return rules.Calendar(chosen) if chosen else rules.Calendar.CALENDAR

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        baseline, due = data.get("baseline_date"), data.get("due_date")
        if baseline and due and due <= baseline:
            self.add_error("due_date", gettext("the due date must be after the baseline date"))
        elif baseline and due and "frequency" in data:
            count = rules.period_count(
                rules.Frequency(data["frequency"]), baseline, due, self.calendar()
            )
            if count > rules.MAX_REPORTING_PERIODS:
                self.add_error("frequency", gettext(
                    "%(count)s reporting periods between the baseline and due dates: at most "
                    "%(max)s are allowed (report less often or shorten the plan)"
                ) % {"count": count, "max": rules.MAX_REPORTING_PERIODS})
        low, high = data.get("min_value"), data.get("max_value")
        if low is not None and high is not None and low > high:
            self.add_error("max_value", gettext(
                "%(max)s is below the smallest value (min: %(min)s)"
            ) % {"max": shown(high), "min": shown(low)})
        target = self.unsaved_target()
        for name in ("baseline_value", "target_value"):
            problem = target.value_problem(data[name]) if target and name in data else None
            if problem:
                self.add_error(name, problem)
        return data

    def unsaved_target(self) -> Target | None:
        """An unsaved target to ask whether a value fits it; None while its value type or
        range is itself in question."""
        data = self.cleaned_data
        if not {"value_type", "min_value", "max_value"} <= data.keys():
            return None
        return Target(
            value_type=data["value_type"], min_value=data["min_value"],
            max_value=data["max_value"],
        )


class MilestoneNode(NodeForm):
    """A milestone, given its target's form and its plan's values (``target``, ``plan``)."""

    date = Day(Milestone, "date")
    value = Number(Milestone, "value")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        target: TargetNode = self.context["target"]
        plan: dict[str, Any] = self.context["plan"]
        when, value = data.get("date"), data.get("value")
        start, end = plan.get("start"), plan.get("end")
        baseline = target.cleaned_data.get("baseline_date")
        due = target.cleaned_data.get("due_date")
        if when and start and end and not (start <= when <= end):
            self.add_error("date", gettext("%(date)s lies outside the plan (%(start)s – %(end)s)")
                           % {"date": when, "start": start, "end": end})
        elif when and baseline and due and not (baseline < when < due):
            self.add_error(
                "date", gettext("%(date)s is not between the baseline and due dates")
                % {"date": when},
            )
        unsaved = target.unsaved_target()
        problem = unsaved.value_problem(value) if unsaved and value is not None else None
        if problem:
            self.add_error("value", problem)
        return data
