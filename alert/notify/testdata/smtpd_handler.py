"""An aiosmtpd handler for drainpipe's SMTP tests.

Run by the tests as
    python3 -m aiosmtpd -n -l 127.0.0.1:PORT --tlscert CERT --tlskey KEY \
        -c smtpd_handler.Handler USER PASSWORD OUTDIR
with this directory on PYTHONPATH. With --tlscert, aiosmtpd requires STARTTLS
before any mail command and offers AUTH only over TLS. This handler accepts AUTH
PLAIN for USER and PASSWORD alone (it quotes refused credentials back, base64 as
sent), refuses mail from an unauthenticated session, and writes every message it
accepts to OUTDIR as N.eml, with N.json saying who sent it to whom, over TLS or
not, as which user.
"""

import base64
import binascii
import json
import os

from aiosmtpd.smtp import AuthResult


class Handler:
    def __init__(self, user, password, outdir):
        self.user = user.encode()
        self.password = password.encode()
        self.outdir = outdir
        self.count = 0

    @classmethod
    def from_cli(cls, parser, *args):
        if len(args) != 3:
            parser.error("want USER PASSWORD OUTDIR")
        return cls(*args)

    async def auth_PLAIN(self, server, args):
        if len(args) == 2:
            try:
                raw = base64.b64decode(args[1], validate=True)
            except binascii.Error:
                await server.push("501 5.5.2 Can't decode base64")
                return AuthResult(success=False, handled=True)
        else:
            raw = await server.challenge_auth("")
            if not isinstance(raw, bytes):
                return AuthResult(success=False)
        parts = raw.split(b"\x00")
        if len(parts) != 3:
            await server.push("501 5.5.2 Can't split auth value")
            return AuthResult(success=False, handled=True)
        _, login, password = parts
        if login == self.user and password == self.password:
            return AuthResult(success=True, auth_data=login.decode())
        # Quote the refused credentials back, as a careless server might: the
        # client must not show them.
        await server.push("535 5.7.8 Credentials " + base64.b64encode(raw).decode() + " refused")
        return AuthResult(success=False, handled=True)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        base = os.path.join(self.outdir, str(self.count))
        with open(base + ".eml", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "tls": session.ssl is not None,
            "user": session.auth_data,
        }
        with open(base + ".json.tmp", "w") as f:
            json.dump(meta, f)
        os.rename(base + ".json.tmp", base + ".json")
        return "250 Message accepted for delivery"
