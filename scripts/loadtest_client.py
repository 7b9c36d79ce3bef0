"""The load drill's clients: people signing in and working through the real forms.

Each client is one user with its own session (cookies) and CSRF tokens read from the forms it
posts, like a browser. Staff save a draft and submit it, or fix what was returned to them;
managers approve or return entries of their units (never their own: they write none). Every
request is timed by kind; every change the server acknowledged (its redirect to the success
page) is recorded, so that the drill can look for it in the database afterwards.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from dataclasses import dataclass, field

import httpx

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
VERSION = re.compile(r'name="version" value="(\d*)"')
REVIEWABLE = re.compile(r'name="entries" value="(\d+)"')
TO_FIX = re.compile(r'href="/targets/([^/"]+)/report/\?period=([^"&]+)"')


@dataclass
class Sample:
    kind: str
    status: int  # 0: no answer (timeout, connection refused or reset)
    started: float  # time.monotonic()
    seconds: float
    detail: str = ""


@dataclass
class Ack:
    """A change the server said it made."""

    action: str  # submit | approve | return
    username: str
    at: float
    code: str = ""
    period: str = ""
    value: int | None = None
    entry_id: int | None = None


@dataclass
class Account:
    username: str
    password: str
    role: str  # staff | manager
    unit: str
    targets: list[str] = field(default_factory=list)  # codes to read


@dataclass
class Recorder:
    samples: list[Sample] = field(default_factory=list)
    acks: list[Ack] = field(default_factory=list)
    signed_in: list[str] = field(default_factory=list)
    retried: int = 0


class Client:
    def __init__(self, account: Account, base_url: str, recorder: Recorder,
                 slots: dict[str, list[tuple[str, str]]], rng: random.Random) -> None:
        self.account = account
        self.recorder = recorder
        self.slots = slots  # unit → free (target code, period), shared by the unit's staff
        self.rng = rng
        self.http = httpx.AsyncClient(base_url=base_url, follow_redirects=False,
                                      timeout=httpx.Timeout(30.0))

    async def request(self, kind: str, method: str, url: str, timeout: float = 30.0,
                      **kwargs) -> httpx.Response | None:
        started = time.monotonic()
        try:
            try:
                response = await self.http.request(method, url, timeout=timeout, **kwargs)
            except httpx.RemoteProtocolError:
                if method != "GET":
                    raise
                # The server closed a kept-alive connection just as it was reused: a browser
                # sends an idempotent request again on a new one.
                self.recorder.retried += 1
                response = await self.http.request(method, url, timeout=timeout, **kwargs)
        except httpx.HTTPError as exc:
            self.recorder.samples.append(
                Sample(kind, 0, started, time.monotonic() - started, f"{type(exc).__name__}")
            )
            return None
        detail = response.text[:300] if response.status_code >= 500 else ""
        self.recorder.samples.append(
            Sample(kind, response.status_code, started, time.monotonic() - started, detail)
        )
        return response

    async def sign_in(self) -> bool:
        page = await self.request("login_form", "GET", "/accounts/login/")
        token = page is not None and CSRF.search(page.text)
        if not token:
            return False
        answer = await self.request(
            "login", "POST", "/accounts/login/", timeout=120.0,  # PBKDF2 is slow on purpose
            data={"csrfmiddlewaretoken": token.group(1), "username": self.account.username,
                  "password": self.account.password, "next": ""},
        )
        if answer is None or answer.status_code != 302:
            return False
        self.recorder.signed_in.append(self.account.username)
        return True

    async def work(self, until: list[float]) -> None:
        """Work until ``until[0]`` (time.monotonic()), which the drill may move later."""
        if self.account.username not in self.recorder.signed_in:
            return
        while time.monotonic() < until[0]:
            if self.account.role == "staff":
                await self.staff_step()
            else:
                await self.manager_step()
            await asyncio.sleep(self.rng.uniform(0.05, 0.3))  # a person's pause

    async def read_something(self) -> None:
        if self.rng.random() < 0.5 or not self.account.targets:
            await self.request("status", "GET", "/")
        else:
            code = self.rng.choice(self.account.targets)
            await self.request("target", "GET", f"/targets/{code}/")

    # --- staff: enter, submit, fix --------------------------------------------------------

    async def staff_step(self) -> None:
        roll = self.rng.random()
        if roll < 0.3:
            await self.read_something()
        elif roll < 0.4:
            page = await self.request("entries", "GET", "/entries/")
            fix = page is not None and TO_FIX.findall(page.text)
            if fix:
                code, period = self.rng.choice(fix)
                await self.submit(code, period, draft_first=False)
        else:
            free = self.slots.get(self.account.unit) or []
            if free:
                code, period = free.pop()
                await self.submit(code, period, draft_first=True)

    def value(self) -> int:
        # Mostly far behind the plan, sometimes far ahead: the first approval of a target
        # usually makes it lagging (an alert, a digest), a later one may make it recover.
        if self.rng.random() < 0.8:
            return self.rng.randint(0, 20)
        return self.rng.randint(1200, 1500)

    async def form(self, code: str, period: str) -> tuple[str, str] | None:
        page = await self.request("report_form", "GET", f"/targets/{code}/report/",
                                  params={"period": period})
        if page is None or page.status_code != 200:
            return None
        token, version = CSRF.search(page.text), VERSION.search(page.text)
        if not (token and version):
            return None
        return token.group(1), version.group(1)

    async def submit(self, code: str, period: str, *, draft_first: bool) -> None:
        url = f"/targets/{code}/report/"
        if draft_first:
            form = await self.form(code, period)
            if form is None:
                return
            saved = await self.request("save_draft", "POST", url, data={
                "csrfmiddlewaretoken": form[0], "version": form[1], "opened_period": period,
                "period": period, "value": str(self.value()), "note": "nháp (load drill)",
                "evidence_url": "", "action": "draft",
            })
            if saved is None or saved.status_code != 302:
                return
        form = await self.form(code, period)
        if form is None:
            return
        value = self.value()
        sent = await self.request("submit", "POST", url, data={
            "csrfmiddlewaretoken": form[0], "version": form[1], "opened_period": period,
            "period": period, "value": str(value), "note": "load drill", "evidence_url": "",
            "action": "submit",
        })
        if sent is not None and sent.status_code == 302 and \
                sent.headers.get("location") == f"/targets/{code}/":
            self.recorder.acks.append(
                Ack("submit", self.account.username, time.monotonic(), code, period, value)
            )

    # --- managers: approve or return --------------------------------------------------------

    async def manager_step(self) -> None:
        if self.rng.random() < 0.25:
            await self.read_something()
            return
        queue = await self.request("review_queue", "GET", "/review/")
        ids = queue is not None and REVIEWABLE.findall(queue.text)
        if not ids:
            await asyncio.sleep(0.3)  # nothing to review yet
            return
        pk = int(self.rng.choice(ids))
        page = await self.request("review_entry", "GET", f"/review/{pk}/")
        token = page is not None and CSRF.search(page.text)
        version = page is not None and VERSION.search(page.text)
        if not (token and version):
            return
        data = {"csrfmiddlewaretoken": token.group(1), "version": version.group(1)}
        if self.rng.random() < 0.8:
            action, kind = "approve", "approve"
        else:
            action, kind = "return", "return"
            data["comment"] = "Kiểm tra lại số liệu (load drill)."
        answer = await self.request(kind, "POST", f"/review/{pk}/{action}/", data=data)
        if answer is not None and answer.status_code == 302 and \
                answer.headers.get("location") == "/review/":
            self.recorder.acks.append(
                Ack(action, self.account.username, time.monotonic(), entry_id=pk)
            )


class Crowd:
    """The clients together: they sign in at once, then work until the time is up."""

    def __init__(self, accounts: list[Account], base_url: str,
                 slots: dict[str, list[tuple[str, str]]], recorder: Recorder,
                 seed: int = 1) -> None:
        self.clients = [Client(a, base_url, recorder, slots, random.Random(seed + i))
                        for i, a in enumerate(accounts)]

    async def sign_in(self, at_once: int) -> None:
        """Sign everyone in, ``at_once`` at a time (people do not all arrive in one second)."""
        gate = asyncio.Semaphore(at_once)

        async def one(client: Client) -> None:
            async with gate:
                await client.sign_in()

        await asyncio.gather(*(one(c) for c in self.clients))

    async def work(self, until: list[float]) -> None:
        await asyncio.gather(*(c.work(until) for c in self.clients))

    async def close(self) -> None:
        await asyncio.gather(*(c.http.aclose() for c in self.clients))
