#!/usr/bin/python3
"""MIT GSSAPI (python3-gssapi) against the SSPI Kerberos acceptor of test/e2e/message-peer.ts:
gss_get_mic / gss_verify_mic and gss_wrap / gss_unwrap against MakeSignature / VerifySignature and
EncryptMessage / DecryptMessage.

    gssapi_wrap.py SERVICE@HOST PORT

Authenticates with the Kerberos mechanism itself (not SPNEGO: the peer's package is "Kerberos"), then
runs each exchange and prints one JSON report: for each exchange what the peer answered and what MIT
GSSAPI made of it. Uses KRB5CCNAME and KRB5_CONFIG of the environment.
"""
import base64
import json
import socket
import sys

import gssapi

KRB5 = gssapi.OID.from_int_seq("1.2.840.113554.1.2.2")


def b64(b):
    return base64.b64encode(b).decode()


class Peer:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.file = self.sock.makefile("rwb")

    def ask(self, **request):
        self.file.write((json.dumps(request) + "\n").encode())
        self.file.flush()
        return json.loads(self.file.readline())


def attempt(fn):
    """fn()'s result, or the GSSAPI error's name."""
    try:
        return fn()
    except gssapi.exceptions.GSSError as e:
        return "GSSError: " + type(e).__name__


def main():
    target, port = sys.argv[1], int(sys.argv[2])
    peer = Peer(port)
    flags = (gssapi.RequirementFlag.mutual_authentication | gssapi.RequirementFlag.replay_detection
             | gssapi.RequirementFlag.out_of_sequence_detection | gssapi.RequirementFlag.integrity
             | gssapi.RequirementFlag.confidentiality)
    ctx = gssapi.SecurityContext(name=gssapi.Name(target, gssapi.NameType.hostbased_service), mech=KRB5,
                                 usage="initiate", flags=flags)
    reply = peer.ask(op="step", token=b64(ctx.step()))
    ctx.step(base64.b64decode(reply["token"]))
    report = {"handshake": {"peer": reply["code"], "complete": ctx.complete}}

    data = bytes((i * 7 + 3) & 0xFF for i in range(1024))

    # MIC, MIT -> SSPI, then SSPI -> MIT.
    report["mic_to_sspi"] = peer.ask(op="verify", data=b64(data), mic=b64(ctx.get_signature(data)))
    answer = peer.ask(op="sign", data=b64(data))
    def verify():
        ctx.verify_signature(data, base64.b64decode(answer["mic"]))  # raises BadMICError when wrong
        return True
    report["mic_from_sspi"] = {"peer": answer, "verified": attempt(verify)}

    # gss_wrap -> the facade's unwrap (SECBUFFER_STREAM + DATA).
    wrapped = ctx.wrap(data, True).message
    report["wrap_to_sspi_unwrap"] = peer.ask(op="unwrap", message=b64(wrapped))
    # The same token (a refused one used no sequence number) and a sign-only one -> raw DecryptMessage,
    # split as Wine's EncryptMessage splits its own.
    for name, trailer in (("wrap_to_sspi_decrypt", 60), ("wrap_noenc_to_sspi_decrypt", 28)):
        if trailer == 28:
            wrapped = ctx.wrap(data, False).message
        answer = peer.ask(op="decrypt", message=b64(wrapped), trailer=trailer)
        report[name] = {"status": answer["status"], "qop": answer["qop"], "data_equal": base64.b64decode(answer["data"]) == data}

    # raw EncryptMessage -> gss_unwrap.
    answer = peer.ask(op="encrypt", data=b64(data), trailer=60)
    def unwrap():
        r = ctx.unwrap(base64.b64decode(answer["message"]))
        return {"data_equal": r.message == data, "encrypted": r.encrypted}
    report["encrypt_to_mit_unwrap"] = {"status": answer["status"], "mit": attempt(unwrap)}
    # The facade's wrap last: under Wine it fails after using a sequence number.
    report["sspi_wrap"] = peer.ask(op="wrap", data=b64(data))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
