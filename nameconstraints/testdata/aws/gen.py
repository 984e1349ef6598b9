#!/usr/bin/env python3
# Regenerates the API-passthrough vectors in this folder the way the aws-samples name-constraints encoder
# does it (cryptography's NameConstraints(...).public_bytes(), base64, json.dump(indent=4) to a file), for every
# NAME.input file here. An input file has two lines, "p: LIST" and "e: LIST", in nameconstraints'
# ParseSubtreeList syntax (restricted here to dns:/ip:/email:/uri:/dn: items without commas inside DNs; dn:
# items are written as "dn:O=Example/C=US" with '/' between RDNs, most significant last).
# Run: cd nameconstraints/testdata/aws && python3 gen.py   (Python 3.11, cryptography 48.0.0)
import base64, glob, ipaddress, json, os
from cryptography import x509
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import NameOID

ATTRS = {"C": NameOID.COUNTRY_NAME, "O": NameOID.ORGANIZATION_NAME, "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
         "CN": NameOID.COMMON_NAME}

def general_name(item):
    form, _, v = item.partition(":")
    if form == "dns":
        return x509.DNSName(v)
    if form == "ip":
        return x509.IPAddress(ipaddress.ip_network(v))
    if form == "email":
        return x509.RFC822Name(v)
    if form == "uri":
        return x509.UniformResourceIdentifier(v)
    if form == "dn":
        rdns = []
        for atv in reversed(v.split("/")):
            k, _, val = atv.partition("=")
            # PrintableString, the type Go's encoding/asn1 (and nameconstraints) picks for printable text
            rdns.append(x509.RelativeDistinguishedName(
                [x509.NameAttribute(ATTRS[k], val, _type=_ASN1Type.PrintableString)]))
        return x509.DirectoryName(x509.Name(rdns))
    raise ValueError(item)

for path in sorted(glob.glob("*.input")):
    lists = {"p": None, "e": None}
    for line in open(path):
        k, _, v = line.strip().partition(": ")
        if v:
            lists[k] = [general_name(i) for i in v.split(",")]
    der = x509.NameConstraints(lists["p"], lists["e"]).public_bytes()
    doc = {"Extensions": {"CustomExtensions": [{"ObjectIdentifier": "2.5.29.30"}]}}
    doc["Extensions"]["CustomExtensions"][0]["Value"] = base64.b64encode(der).decode("utf-8")
    doc["Extensions"]["CustomExtensions"][0]["Critical"] = True
    name = path[: -len(".input")]
    with open(name + ".api_passthrough_config.json", "w") as f:
        json.dump(doc, f, indent=4)
    with open(name + ".der", "wb") as f:
        f.write(der)
