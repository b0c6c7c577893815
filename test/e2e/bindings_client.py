#!/usr/bin/python3
"""An independent Kerberos initiator with channel bindings (MIT GSSAPI through python3-gssapi) for
test/e2e/bindings.test.ts.

    bindings_client.py URL SERVICE@HOST BINDINGS

BINDINGS is "-" for none, "cert:<path>" for the tls-server-end-point application data of the PEM
certificate at <path> (computed here with Python's ssl and hashlib, RFC 5929 section 4.1; the test
chooses certificates whose signature hash is SHA-256 or SHA-384), or "data:<base64>" for application
data given as is. The token (raw Kerberos mech, mutual authentication) is POSTed to URL as JSON
{"token": base64, ...}; the JSON answer is printed with "mutual" (the server's AP-REP verified) and
"clientApplicationData" (what this side bound to, base64).

Uses the credential cache KRB5CCNAME and the krb5.conf KRB5_CONFIG of the environment.
"""
import base64
import hashlib
import http.client
import json
import ssl
import sys
import urllib.parse

import gssapi
import gssapi.raw

KRB5 = gssapi.OID.from_int_seq("1.2.840.113554.1.2.2")

# The signature algorithms of the certificates the test makes (openssl req -sha256 / -sha384), by OID
# in the DER: RFC 5929 section 4.1 uses the signature's hash, SHA-256 for MD5 and SHA-1.
HASH_OF_SIGNATURE = {
    bytes.fromhex("06092a864886f70d01010b"): "sha256",  # sha256WithRSAEncryption
    bytes.fromhex("06082a8648ce3d040303"): "sha384",  # ecdsa-with-SHA384
}


def end_point(path):
    with open(path) as f:
        der = ssl.PEM_cert_to_DER_cert(f.read())
    found = [h for oid, h in HASH_OF_SIGNATURE.items() if oid in der]
    if len(found) != 1:
        raise SystemExit("bindings_client.py: unknown signature algorithm in " + path)
    return b"tls-server-end-point:" + hashlib.new(found[0], der).digest()


def main():
    url, target, spec = urllib.parse.urlsplit(sys.argv[1]), sys.argv[2], sys.argv[3]
    app = None
    if spec.startswith("cert:"):
        app = end_point(spec[5:])
    elif spec.startswith("data:"):
        app = base64.b64decode(spec[5:])
    bindings = gssapi.raw.ChannelBindings(application_data=app) if app is not None else None
    name = gssapi.Name(target, gssapi.NameType.hostbased_service)
    flags = gssapi.RequirementFlag.mutual_authentication
    ctx = gssapi.SecurityContext(name=name, mech=KRB5, usage="initiate", flags=flags, channel_bindings=bindings)
    token = ctx.step()
    body = dict(json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}, token=base64.b64encode(token).decode())
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    conn.request("POST", url.path or "/", body=json.dumps(body), headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    report = json.loads(resp.read().decode("utf-8"))
    report["mutual"] = False
    if report.get("token"):
        ctx.step(base64.b64decode(report["token"]))  # raises if the AP-REP is bad
        report["mutual"] = ctx.complete
    report["clientApplicationData"] = base64.b64encode(app).decode() if app is not None else None
    print(json.dumps(report))


if __name__ == "__main__":
    main()
