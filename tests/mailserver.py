"""A real SMTP server on loopback (aiosmtpd) that the tests can make refuse or stall."""

from __future__ import annotations

import asyncio
import email
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message

from aiosmtpd.controller import Controller


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: Message

    @property
    def message_id(self) -> str:
        return self.message["Message-ID"]

    def part(self, content_type: str) -> str:
        for part in self.message.walk():
            if part.get_content_type() == content_type:
                return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
        raise KeyError(content_type)


class Mailbox:
    """The aiosmtpd handler: records every message it accepted (answered 250 to)."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.refuse_next = 0  # answer 451 to this many DATA commands
        self.refuse_always = False
        self.refusals = 0
        self.stall_next = False  # hold the next DATA without answering until released
        self.stalled = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.stall_next:
            self.stall_next = False
            self.stalled.set()
            # aiosmtpd cancels this coroutine when the client goes away: nothing is accepted.
            while not self.release.is_set():
                await asyncio.sleep(0.05)
        with self._lock:
            if self.refuse_always or self.refuse_next > 0:
                self.refuse_next = max(0, self.refuse_next - 1)
                self.refusals += 1
                return "451 4.3.0 Mailbox busy, try again later"
            self.received.append(
                Received(
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    email.message_from_bytes(envelope.content),
                )
            )
        return "250 2.0.0 OK: queued"

    def message_ids(self) -> list[str]:
        return [r.message_id for r in self.received]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(mailbox: Mailbox) -> Controller:
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller


def wait_until(condition: Callable[[], bool], timeout: float = 30.0, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()
