"""`python -m demo_app.admin`: the owner's desk from a terminal, through the running app.

The ledger admits one process at a time (its file is locked while the app runs), so this command
never opens the files: it calls the admin routes of the running app with the admin key. When the
app is stopped it refuses and says to start the app; nothing is changed.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from demo_app.admin._access import NotAnAdmin, admin_name
from demo_app.admin._http import NAME_HEADER, PREFIX
from demo_app.money import format_credits

DEFAULT_URL = "http://127.0.0.1:7860"
TIMEOUT_S = 60.0
"""Longer than the app's `cancel_wait_s` (30 s): a cancel answers within it."""

STOPPED = (
    "Cannot reach the app at {url}. Start it (python app.py) and run this again: the ledger admits one "
    "process at a time, so this command works only through the running app and changed nothing."
)
NO_KEY = "Set LIPSYNC_ADMIN_KEY (the same admin key the app runs with) in the environment or in .env."

EPILOG = """\
The command talks to the RUNNING app over HTTP (its admin routes, authenticated by
LIPSYNC_ADMIN_KEY sent as 'Authorization: Bearer'). The ledger admits one process at a time, so
when the app is stopped the command refuses, says to start the app, and changes nothing.
Owner ids are hf:<name> or browser:<id> (a bare name means hf:<name>); 1 credit = $0.001.

examples:
  python -m demo_app.admin spend
  python -m demo_app.admin grant hf:alice 500 --reason "Thanks for the bug report"
  python -m demo_app.admin take browser:3f9a… 200 --reason "Duplicate grant"
"""


class CliSettings(BaseSettings):
    """What the command reads from the environment (and `.env`), as the app does."""

    model_config = SettingsConfigDict(env_prefix="LIPSYNC_", env_file=".env", extra="ignore")

    admin_key: SecretStr | None = None
    admin_url: str = DEFAULT_URL


class Refused(Exception):
    """The command cannot go on; `str()` is the one sentence to print."""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m demo_app.admin",
        description="The owner's desk of a running Lipsync Studio: spend, jobs, failures, credits.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--url", help=f"the app's address (default: LIPSYNC_ADMIN_URL, else {DEFAULT_URL})")
    p.add_argument(
        "--as", dest="name", help="your name in the ledger for grant and take (default: your login)"
    )
    p.add_argument("--json", action="store_true", help="print the app's JSON answer as it is")
    sub = p.add_subparsers(dest="command", required=True, metavar="command")
    sub.add_parser("spend", help="today's Replicate spend against the daily budget")
    sub.add_parser("jobs", help="every running job")
    cancel = sub.add_parser("cancel", help="cancel anyone's job (its hold goes back)")
    cancel.add_argument("job_id")
    sub.add_parser("failures", help="recent failed or timed-out jobs with their reasons")
    statement = sub.add_parser("statement", help="a visitor's balance and every entry")
    statement.add_argument("owner")
    for name, what in (("grant", "give a visitor credits"), ("take", "take credits back (never held ones)")):
        change = sub.add_parser(name, help=what)
        change.add_argument("owner")
        change.add_argument("credits", type=int)
        change.add_argument("--reason", required=True, help="why; the visitor reads it in their statement")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; 0 done, 1 refused by the app, 2 not run (no key, app stopped)."""
    args = parser().parse_args(_job_id_as_operand(list(sys.argv[1:] if argv is None else argv)))
    settings = CliSettings()
    url = (args.url or settings.admin_url).rstrip("/")
    try:
        if settings.admin_key is None:
            raise Refused(NO_KEY)
        status, answer = _call(url, settings.admin_key, args)
    except Refused as exc:
        print(exc, file=sys.stderr)
        return 2
    if status != 200:
        print(answer.get("error", f"The app answered {status}."), file=sys.stderr)
        return 1
    print(json.dumps(answer, indent=2) if args.json else render(args.command, answer))
    return 0


def _call(url: str, key: SecretStr, args: argparse.Namespace) -> tuple[int, dict[str, Any]]:
    """Send the command to the app's admin route; the key travels only in the header."""
    headers = {"Authorization": f"Bearer {key.get_secret_value()}"}
    method, path, body, params = "GET", f"/{args.command}", None, None
    if args.command in ("cancel", "grant", "take"):
        try:
            headers[NAME_HEADER] = admin_name(args.name if args.name is not None else getpass.getuser())
        except NotAnAdmin as exc:
            raise Refused(f"{exc} Pass it with --as NAME.") from None
    if args.command == "cancel":
        method, path = "POST", f"/jobs/{quote(args.job_id, safe='')}/cancel"
    elif args.command == "statement":
        params = {"owner": args.owner}
    elif args.command in ("grant", "take"):
        method, body = "POST", {"owner": args.owner, "credits": args.credits, "reason": args.reason}
    try:
        with httpx.Client(base_url=url + PREFIX, timeout=TIMEOUT_S) as client:
            response = client.request(method, path, headers=headers, json=body, params=params)
    except httpx.TransportError:
        raise Refused(STOPPED.format(url=url)) from None
    try:
        answer = response.json()
    except ValueError:
        raise Refused(
            f"{url} answered {response.status_code} without the desk's JSON: is it Lipsync Studio?"
        ) from None
    return response.status_code, answer if isinstance(answer, dict) else {}


def render(command: str, answer: dict[str, Any]) -> str:
    """The app's answer as lines for a person."""
    if command == "spend":
        return (
            f"Today ({answer['day']} UTC): spent {format_credits(answer['spent'])}, held "
            f"{format_credits(answer['held'])}; daily budget {format_credits(answer['cap'])}, "
            f"{format_credits(answer['left'])} left."
        )
    if command in ("jobs", "failures"):
        jobs = answer["jobs"]
        if not jobs:
            return "No jobs running." if command == "jobs" else "No failures."
        return "\n".join(_job_line(job, reason=command == "failures") for job in jobs)
    if command == "cancel":
        return f"Job {answer['job_id']} of {answer['owner']}: {answer['status']}. {answer['message']}"
    totals = (
        f"{answer['owner']}: balance {answer['balance']:,}, held {answer['held']:,}, "
        f"available {answer['available']:,} credits"
    )
    if command != "statement":
        return f"{'Granted' if command == 'grant' else 'Took'}. {totals}."
    lines = [
        f"{line['time'][:16]}  {line['kind']:<8} {line['amount']:>+8,}  {line['reason']}"
        for line in answer["statement"]
    ]
    return "\n".join([totals, *lines])


def _job_line(job: dict[str, Any], *, reason: bool) -> str:
    why = (
        f"  {job['error'] or job['message']}"
        if reason
        else f"  held {job['held']:,}  {job['elapsed_s']:.0f} s"
    )
    return f"{job['job_id']}  {job['owner']}  {job['model']}  {job['status']}{why}"


def _job_id_as_operand(argv: list[str]) -> list[str]:
    """A job id may begin with "-" (ids are URL-safe base64): after `cancel`, mark it as the
    operand it is, so the parser does not take it for an option."""
    if "cancel" in argv:
        at = argv.index("cancel") + 1
        if at < len(argv) and argv[at].startswith("-") and argv[at] not in ("-h", "--help", "--"):
            return [*argv[:at], "--", *argv[at:]]
    return argv
