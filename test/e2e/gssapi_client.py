#!/usr/bin/python3
"""An independent SPNEGO initiator (MIT GSSAPI through python3-gssapi) for the end-to-end suite.

    gssapi_client.py token SERVICE@HOST          print a base64 SPNEGO initial token
    gssapi_client.py roundtrip SERVICE@HOST URL  send it to URL, check the server's mutual-auth
                                                 token, print a JSON report

Uses the credential cache KRB5CCNAME and the krb5.conf KRB5_CONFIG of the environment.
"""
import base64
import http.client
import json
import sys
import urllib.parse

import gssapi

SPNEGO = gssapi.OID.from_int_seq("1.3.6.1.5.5.2")


def context(target):
    name = gssapi.Name(target, gssapi.NameType.hostbased_service)
    flags = gssapi.RequirementFlag.mutual_authentication | gssapi.RequirementFlag.out_of_sequence_detection
    return gssapi.SecurityContext(name=name, mech=SPNEGO, usage="initiate", flags=flags)


def main():
    mode, target = sys.argv[1], sys.argv[2]
    ctx = context(target)
    token = ctx.step()
    if mode == "token":
        print(base64.b64encode(token).decode())
        return
    url = urllib.parse.urlsplit(sys.argv[3])
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    conn.request("GET", url.path or "/", headers={"Authorization": "Negotiate " + base64.b64encode(token).decode()})
    resp = conn.getresponse()
    body = resp.read().decode("utf-8", "replace")
    report = {"status": resp.status, "body": body, "mutual": False, "complete": ctx.complete}
    header = resp.getheader("WWW-Authenticate") or ""
    if header.startswith("Negotiate "):
        ctx.step(base64.b64decode(header[len("Negotiate "):]))  # raises if the server's token is bad
        report["mutual"] = True
        report["complete"] = ctx.complete
    print(json.dumps(report))


if __name__ == "__main__":
    main()
