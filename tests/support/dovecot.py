"""A throwaway Dovecot for the integration tests: IMAP only, plain text, passwd-file users.

``Dovecot`` writes its own ``dovecot.conf`` into a private directory, runs
``dovecot -F -c <conf>`` as a child process on a free 127.0.0.1 port and kills
its process group on ``stop()``. Nothing is installed or started system-wide.

Mail processes run as an unprivileged user: ``nobody``/``nogroup`` when the
tests run as root (Dovecot refuses mail access as root), else the current user;
the mail directory is owned by that user. Each user has a one-line passwd-file
of its own, so ``add_user`` works while Dovecot runs.

A missing ``dovecot`` binary is a skip on a laptop and a failure when ``CI`` is set.
"""

from __future__ import annotations

import grp
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest
from imapclient import IMAPClient

from config.email_settings import MailboxSettings
from connectors.email.imap import ImapPoller
from router.errors import TransientError
from tests.support.services import free_port

HOST = "127.0.0.1"
_APPENDUID = re.compile(rb"APPENDUID (\d+) (\d+)")


def find_binary(name: str) -> str | None:
    return shutil.which(name) or next(
        (str(p) for d in ("/usr/sbin", "/usr/bin") if (p := Path(d, name)).exists()), None
    )


def require_dovecot() -> tuple[str, str]:
    """The paths of ``dovecot`` and ``doveadm``: skip when missing, unless ``CI`` is set."""
    dovecot, doveadm = find_binary("dovecot"), find_binary("doveadm")
    if dovecot and doveadm:
        return dovecot, doveadm
    message = "Dovecot is not installed (apt-get install dovecot-imapd)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _mail_owner() -> tuple[str, int, int]:
    """Who runs the mail processes: never root."""
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid()).pw_name, os.geteuid(), os.getegid()
    nobody = pwd.getpwnam("nobody")
    try:
        gid = grp.getgrnam("nogroup").gr_gid
    except KeyError:
        gid = nobody.pw_gid
    return nobody.pw_name, nobody.pw_uid, gid


def _service_users(mail_user: str, mail_gid: int) -> tuple[str, str, str]:
    """``default_internal_user``, ``default_internal_group`` and ``default_login_user``."""
    mail_group = grp.getgrgid(mail_gid).gr_name
    if os.geteuid() != 0:  # rootless: Dovecot cannot switch users, so everything is us
        return mail_user, mail_group, mail_user

    def user_exists(name: str) -> bool:
        try:
            pwd.getpwnam(name)
        except KeyError:
            return False
        return True

    if user_exists("dovecot") and user_exists("dovenull"):  # the Debian package's users
        return "dovecot", grp.getgrgid(pwd.getpwnam("dovecot").pw_gid).gr_name, "dovenull"
    return mail_user, mail_group, mail_user


_CONFIG = """\
# Written by tests/support/dovecot.py for one test session.
instance_name = relaydesk-test-{port}
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
debug_log_path = {root}/dovecot.log
protocols = imap
listen = {host}
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
auth_cache_size = 0
first_valid_uid = 0
first_valid_gid = 0
mail_uid = {uid}
mail_gid = {gid}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
default_login_user = {login_user}
mail_location = maildir:{root}/mail/%u
mailbox_idle_check_interval = 1 secs
login_greeting = relaydesk test Dovecot ready.
shutdown_clients = yes

protocol imap {{
  mail_max_userip_connections = 100
}}

service imap-login {{
  chroot =
  inet_listener imap {{
    address = {host}
    port = {port}
  }}
  inet_listener imaps {{
    address = {host}
    port = {tls_port}
  }}
}}

service anvil {{
  chroot =
  # no auth penalty: a test's failed login must not slow down the next tests' logins
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}

service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}

passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd/%u
}}

userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
"""


def _group_alive(pgid: int) -> bool:
    """Whether a process of group ``pgid`` is still running (zombies do not count)."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            return True
    return False


class Dovecot:
    """A private Dovecot serving IMAP on ``HOST:port`` for the users given."""

    def __init__(
        self,
        users: dict[str, str] | None = None,
        root: Path | None = None,
        *,
        tls: tuple[str, str] | None = None,
    ) -> None:
        """``tls``: a certificate and its key: then IMAPS is served on ``tls_port`` and
        STARTTLS offered on ``port`` (else there is no TLS at all)."""
        self.dovecot_bin, self.doveadm_bin = require_dovecot()
        self.host = HOST
        self.port = free_port()
        self.tls = tls
        self.tls_port = free_port() if tls else 0
        self._own_root = root is None
        self.root = Path(root or tempfile.mkdtemp(prefix="relaydesk-dovecot-"))
        self.config = self.root / "dovecot.conf"
        self.log_file = self.root / "dovecot.log"
        self.users: dict[str, str] = {}
        self.mail_user, self.uid, self.gid = _mail_owner()
        self._proc: subprocess.Popen[bytes] | None = None
        self._started = False
        self._prepare()
        for name, password in (users or {}).items():
            self.add_user(name, password)

    # -- lifecycle -------------------------------------------------------------------

    def _prepare(self) -> None:
        self.root.chmod(0o755)
        for sub in ("run", "state"):
            (self.root / sub).mkdir(exist_ok=True)
        for sub in ("mail", "home"):
            (self.root / sub).mkdir(exist_ok=True)
            os.chown(self.root / sub, self.uid, self.gid)
        (self.root / "passwd").mkdir(exist_ok=True)
        internal, internal_group, login = _service_users(self.mail_user, self.gid)
        self.config.write_text(
            _CONFIG.format(
                root=self.root,
                host=self.host,
                port=self.port,
                tls_port=self.tls_port,
                ssl=(
                    f"ssl = yes\nssl_cert = <{self.tls[0]}\nssl_key = <{self.tls[1]}"
                    if self.tls
                    else "ssl = no"
                ),
                uid=self.uid,
                gid=self.gid,
                internal_user=internal,
                internal_group=internal_group,
                login_user=login,
            )
        )

    def start(self, timeout: float = 15) -> None:
        """Start Dovecot and wait until it greets; a first start retries on a taken port."""
        if self.running:
            return
        for _attempt in range(3):
            if self._start(timeout):
                self._started = True
                return
            if self._started or "Address already in use" not in self.log():
                break
            self.port = free_port()  # someone took the port: only before the first start
            self.tls_port = free_port() if self.tls else 0
            self._prepare()
        raise RuntimeError(f"dovecot did not start on {self.host}:{self.port}:\n{self.log()}")

    def _start(self, timeout: float) -> bool:
        with open(self.root / "dovecot.stderr", "ab") as stderr:
            self._proc = subprocess.Popen(
                [self.dovecot_bin, "-F", "-c", str(self.config)],
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._proc.poll() is None:
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as sock:
                    if sock.recv(200).startswith(b"* OK"):
                        sock.sendall(b"a LOGOUT\r\n")
                        return True
            except OSError:
                time.sleep(0.05)
        self.stop()
        return False

    def stop(self, timeout: float = 10) -> None:
        """Stop Dovecot and every process of its group (they may outlive the master)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            proc.wait(timeout)
        deadline = time.monotonic() + timeout
        while _group_alive(proc.pid) and time.monotonic() < deadline:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            time.sleep(0.05)
        with suppress(subprocess.TimeoutExpired):
            proc.wait(1)

    def restart(self) -> None:
        """Stop and start again on the same port: every client connection is dropped."""
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def close(self) -> None:
        self.stop()
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Dovecot:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def log(self) -> str:
        parts = [p.read_text(errors="replace") for p in (self.log_file,) if p.exists()]
        stderr = self.root / "dovecot.stderr"
        if stderr.exists():
            parts.append(stderr.read_text(errors="replace"))
        return "\n".join(parts)[-5000:]

    # -- users -----------------------------------------------------------------------

    def add_user(self, name: str, password: str) -> None:
        """Add a user: one passwd-file per user, so Dovecot sees a new one at once.

        (Dovecot re-reads a changed passwd-file at most once a second, so a changed
        password may take a second to be seen; a new user is seen immediately.)
        """
        if not re.fullmatch(r"[A-Za-z0-9_.@-]+", name) or name.startswith("."):
            raise ValueError(f"unusable user name {name!r}")
        if any(c in password for c in ":\r\n"):
            raise ValueError("passwords cannot contain ':' or newlines")
        self.users[name] = password
        path = self.root / "passwd" / name
        tmp = path.with_name(f".{name}.tmp")
        tmp.write_text(f"{name}:{{PLAIN}}{password}::::::\n")
        tmp.replace(path)

    # -- mailboxes over IMAP ---------------------------------------------------------

    @contextmanager
    def client(self, user: str) -> Iterator[IMAPClient]:
        """A logged-in IMAP connection as ``user`` (uid-based)."""
        client = IMAPClient(self.host, self.port, ssl=False, timeout=10)
        try:
            client.login(user, self.users[user])
            yield client
        finally:
            try:
                client.logout()
            except Exception:
                client.shutdown()

    def append(
        self, user: str, raw: bytes, folder: str = "INBOX", flags: Iterable[str | bytes] = ()
    ) -> int:
        """Put ``raw`` into ``user``'s ``folder`` (created if missing); returns its UID."""
        with self.client(user) as client:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            response = client.append(folder, raw, flags=tuple(flags))
        match = _APPENDUID.search(response)
        if not match:
            raise RuntimeError(f"no APPENDUID in {response!r}")
        return int(match.group(2))

    def flags(self, user: str, folder: str = "INBOX") -> dict[int, tuple[bytes, ...]]:
        """UID -> flags of every message in ``folder`` (does not change them)."""
        with self.client(user) as client:
            client.select_folder(folder, readonly=True)
            uids = client.search("ALL")
            if not uids:
                return {}
            fetched = client.fetch(uids, ["FLAGS"])
        return {uid: tuple(data[b"FLAGS"]) for uid, data in sorted(fetched.items())}

    def bodies(self, user: str, folder: str = "INBOX") -> dict[int, bytes]:
        """UID -> raw message of every message in ``folder`` (does not set \\Seen)."""
        with self.client(user) as client:
            client.select_folder(folder, readonly=True)
            uids = client.search("ALL")
            if not uids:
                return {}
            fetched = client.fetch(uids, ["BODY.PEEK[]"])
        return {uid: bytes(data[b"BODY[]"]) for uid, data in sorted(fetched.items())}

    def folders(self, user: str) -> list[str]:
        with self.client(user) as client:
            return sorted(str(name) for _flags, _sep, name in client.list_folders())

    def uidvalidity(self, user: str, folder: str = "INBOX") -> int:
        with self.client(user) as client:
            return int(client.folder_status(folder, ["UIDVALIDITY"])[b"UIDVALIDITY"])

    def empty(self, user: str, folder: str = "INBOX") -> None:
        """Expunge every message of ``folder``."""
        with self.client(user) as client:
            client.select_folder(folder)
            uids = client.search("ALL")
            if uids:
                client.delete_messages(uids)
                client.expunge()

    # -- administration (doveadm) ----------------------------------------------------

    def doveadm(self, *args: str) -> str:
        result = subprocess.run(
            [self.doveadm_bin, "-c", str(self.config), *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"doveadm {' '.join(args)} failed: {result.stderr or result.stdout}")
        return result.stdout

    def set_uidvalidity(self, user: str, value: int, folder: str = "INBOX") -> None:
        """Change ``folder``'s UIDVALIDITY, as a server restore or migration would."""
        self.doveadm("mailbox", "update", "-u", user, "--uid-validity", str(value), folder)

    def kick(self, user: str) -> bool:
        """Drop every IMAP connection of ``user`` (the server closes them); False if none."""
        try:
            self.doveadm("kick", user)
        except RuntimeError as error:
            if "no users kicked" in str(error):
                return False
            raise
        return True

    # -- accounts --------------------------------------------------------------------

    def new_account(self, prefix: str = "user") -> ImapAccount:
        """A new user with an empty mailbox and a random password."""
        user = f"{prefix}-{uuid.uuid4().hex[:10]}"
        password = f"pw-{uuid.uuid4().hex}"
        self.add_user(user, password)
        return ImapAccount(self, user, password)


@dataclass(frozen=True)
class ImapAccount:
    """One user's mailbox on a test ``Dovecot``, with its helpers bound to that user."""

    server: Dovecot
    user: str
    password: str

    def settings(self, name: str = "support", **overrides: Any) -> MailboxSettings:
        """``MailboxSettings`` for this mailbox, tuned for tests (short waits), plus overrides."""
        values: dict[str, Any] = {
            "name": name,
            "host": self.server.host,
            "port": self.server.port,
            "security": "none",
            "username": self.user,
            "password": self.password,
            "poll_interval_s": 0.2,
            "idle_timeout_s": 30.0,
            "timeout_s": 5.0,
            "reconnect_min_s": 0.1,
            "reconnect_max_s": 1.0,
        }
        values.update(overrides)
        return MailboxSettings(**values)

    def append(self, raw: bytes, folder: str = "INBOX", flags: Iterable[str | bytes] = ()) -> int:
        return self.server.append(self.user, raw, folder, flags)

    def flags(self, folder: str = "INBOX") -> dict[int, tuple[bytes, ...]]:
        return self.server.flags(self.user, folder)

    def bodies(self, folder: str = "INBOX") -> dict[int, bytes]:
        return self.server.bodies(self.user, folder)

    def folders(self) -> list[str]:
        return self.server.folders(self.user)

    def uidvalidity(self, folder: str = "INBOX") -> int:
        return self.server.uidvalidity(self.user, folder)

    def set_uidvalidity(self, value: int, folder: str = "INBOX") -> None:
        self.server.set_uidvalidity(self.user, value, folder)

    def kick(self) -> bool:
        return self.server.kick(self.user)


def poll_through_reconnects(poller: ImapPoller, attempts: int = 5) -> int:
    """One catch-up of ``poller``; Dovecot drops a session whose folder it renumbered
    ("state is inconsistent"), so a TransientError is followed by a reconnect."""
    for _ in range(attempts):
        try:
            return poller.poll_once()
        except TransientError:
            continue
    raise AssertionError("the poller never got through")
