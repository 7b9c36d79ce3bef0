"""Evidence files: what an upload must hold, the name it is offered under, and removing the
files no entry refers to any more.

An upload is accepted when its content is what its extension says, read from its first bytes
by the ``filetype`` package (a ``.pdf`` that is a PNG, or an ``.xlsx`` that is a web page, is
refused with the reason). An XLSX or DOCX file is a ZIP package: ``filetype`` names it from its
first entries only, so the package's own directory must also hold the workbook or the document
(and no macros). Every accepted type has magic bytes: no text format is accepted.

A file is stored under a random name (``models.evidence_upload_to``); the name it had is kept
in ``ProgressEntry.evidence_name`` and offered on download. A replaced or deleted entry's file
is removed once the change commits, unless an entry still refers to it. The history of an
entry keeps the old file's *name* only: the file itself is not kept for it. Files no entry
refers to (replaced before this, or stored by a save whose transaction rolled back) are removed
by ``manage.py prune_evidence``.
"""

from __future__ import annotations

import unicodedata
import zipfile
from datetime import datetime
from pathlib import PurePath

import filetype
from django.core.files import File
from django.core.files.storage import Storage
from django.db import transaction
from django.utils.translation import gettext as _

# extension → (what the messages call it, the types its content may be, the served type)
TYPES: dict[str, tuple[str, frozenset[str], str]] = {
    "pdf": ("PDF", frozenset({"application/pdf"}), "application/pdf"),
    "jpg": ("JPG", frozenset({"image/jpeg"}), "image/jpeg"),
    "jpeg": ("JPG", frozenset({"image/jpeg"}), "image/jpeg"),
    "png": ("PNG", frozenset({"image/png", "image/apng"}), "image/png"),
    "xlsx": (
        "XLSX",
        frozenset({"application/zip",
                   "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    "docx": (
        "DOCX",
        frozenset({"application/zip",
                   "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
}
EXTENSIONS = list(TYPES)
# The part every Office Open XML package of that kind holds.
PACKAGE_PARTS = {"xlsx": "xl/workbook.xml", "docx": "word/document.xml"}
NAME_MAX = 150  # characters of the original name kept (the extension always kept)
_HEAD = 8192  # what filetype reads
_WEB_PAGE = (b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body", b"<script", b"<svg")


def extension(name: str) -> str:
    return PurePath(str(name or "")).suffix.lower().lstrip(".")


def content_problem(upload: File) -> str | None:
    """Why the upload's content is not what its extension says, or None when it is.

    Reads the first bytes (and, for a ZIP package, its directory) and leaves the file at its
    start. A file of an extension that is not accepted is a problem too.
    """
    ext = extension(upload.name)
    if ext not in TYPES:
        return _("“%(extension)s” files are not accepted. Use one of: %(allowed)s.") % {
            "extension": ext, "allowed": ", ".join(EXTENSIONS)
        }
    label, accepted, _served = TYPES[ext]
    upload.seek(0)
    head = upload.read(_HEAD)
    upload.seek(0)
    if not head:
        return _("The file is empty.")
    found = filetype.guess(head)
    if found is None or found.mime not in accepted:
        return _mismatch(label, ext, head, found)
    if ext in PACKAGE_PARTS:
        return _package_problem(upload, ext, label)
    return None


def _mismatch(label: str, ext: str, head: bytes, found) -> str:
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").lower().startswith(_WEB_PAGE):
        return _("This file is named .%(extension)s but holds a web page (HTML or XML), not "
                 "%(type)s: open it and save it as %(type)s.") % {
                     "extension": ext, "type": label}
    if found is None:
        return _("This file is named .%(extension)s but its content is not %(type)s (or the "
                 "file is damaged): choose the original %(type)s file.") % {
                     "extension": ext, "type": label}
    return _("This file is named .%(extension)s but its content is %(found)s, not %(type)s: "
             "give it its real extension, .%(real)s, if that type is accepted.") % {
                 "extension": ext, "type": label, "found": found.extension.upper(),
                 "real": found.extension}


def _package_problem(upload: File, ext: str, label: str) -> str | None:
    try:
        with zipfile.ZipFile(upload) as package:
            names = set(package.namelist())
    except Exception:  # zipfile raises many kinds of error for a damaged archive
        names = None
    finally:
        upload.seek(0)
    if names is None:
        return _("This %(type)s file is damaged: it cannot be opened.") % {"type": label}
    if "[Content_Types].xml" in names and PACKAGE_PARTS[ext] in names:
        if any(name.lower().endswith("vbaproject.bin") for name in names):
            return _("This %(type)s file holds macros: save it again without macros.") % {
                "type": label}
        return None
    other = next((e for e, part in PACKAGE_PARTS.items() if part in names), None)
    if other is not None:
        return _("This file is named .%(extension)s but its content is %(found)s: give it its "
                 "real extension, .%(real)s.") % {
                     "extension": ext, "found": TYPES[other][0], "real": other}
    return _("This file is a ZIP archive, not %(type)s: upload the %(type)s file itself.") % {
        "type": label}


def served_type(name: str) -> str:
    """The Content-Type of a stored file: from its checked extension, never from the upload's
    own claim."""
    found = TYPES.get(extension(name))
    return found[2] if found else "application/octet-stream"


def original_name(name: str) -> str:
    """The uploaded file's own name, fit to offer back: no folders (of either slash, as old
    browsers send ``C:\\Users\\…``), no control or direction-changing characters, NFC (as
    Vietnamese is written), at most NAME_MAX characters with the extension kept."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C"
                   and unicodedata.category(ch) not in ("Zl", "Zp"))
    name = " ".join(name.split()).strip(" .")
    ext = extension(name)
    if len(name) > NAME_MAX:
        tail = f".{ext}" if ext and len(ext) < 10 else ""
        name = name[: NAME_MAX - len(tail)].rstrip(" .") + tail
    return name or (f"evidence.{ext}" if ext else "evidence")


def store(upload: File, *, field) -> str:
    """Write the upload under a new random name (the field's ``upload_to``); its name."""
    upload.seek(0)
    name = field.generate_filename(None, upload.name)
    return field.storage.save(name, upload, max_length=field.max_length)


def discard(name: str, *, storage: Storage) -> None:
    """Remove a file this request has just written, when what was to refer to it failed."""
    if name:
        storage.delete(name)


def delete_when_unused(name: str, *, storage: Storage) -> None:
    """Remove a file once the transaction that stopped referring to it commits, unless an
    entry still refers to it then. (Nothing happens if the transaction rolls back.)"""
    if not name:
        return

    def remove() -> None:
        from targets.models import ProgressEntry

        if not ProgressEntry.objects.filter(evidence_file=name).exists():
            storage.delete(name)  # a file already gone is no error

    transaction.on_commit(remove)


def entry_deleted(sender, instance, **kwargs) -> None:
    """post_delete of ProgressEntry: the admin deletes entries, and their targets and plans
    (a cascade no service sees); the entry's file goes with it once that commits."""
    if instance.evidence_file:
        delete_when_unused(instance.evidence_file.name, storage=instance.evidence_file.storage)


def evidence_files_prune(*, storage: Storage, before: datetime, dry_run: bool = False) -> list[str]:
    """Remove the stored evidence files no entry refers to, last changed before ``before``;
    their names. They are files replaced before replaced files were removed, and files a save
    stored before its transaction rolled back. A newer file may belong to a save still under
    way: ``before`` leaves it alone."""
    from targets.models import ExplanationAnswer, ProgressEntry

    referenced = set(
        ProgressEntry.objects.exclude(evidence_file="").values_list("evidence_file", flat=True)
    ) | set(  # an explanation's answer keeps its evidence in the same folder
        ExplanationAnswer.objects.exclude(evidence_file="").values_list(
            "evidence_file", flat=True)
    )
    unused = [
        name for name in _stored(storage, "evidence")
        if name not in referenced and storage.get_modified_time(name) < before
    ]
    if not dry_run:
        for name in unused:
            storage.delete(name)
    return unused


def _stored(storage: Storage, folder: str) -> list[str]:
    if not storage.exists(folder):
        return []
    folders, files = storage.listdir(folder)
    names = [f"{folder}/{name}" for name in sorted(files)]
    for sub in sorted(folders):
        names += _stored(storage, f"{folder}/{sub}")
    return names
