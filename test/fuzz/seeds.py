#!/usr/bin/env python3
"""Write the seed corpora of the fuzz targets (test/fuzz/corpus/<target>/).

The values are the stored strings, metadata encodings and connection
strings of the format documentation's examples, plus the repository's
catalog and object fixtures.  Run from the repository root:

    python3 test/fuzz/seeds.py

The type table below must list the definitions in the same order as defs[]
in fuzz_decode.c (its index is the first byte of a fuzz_decode input).
"""
import base64
import glob
import json
import os
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "test", "fuzz", "corpus")

DEFS = [
    "string", "number", "number|integer:true", "boolean",
    "array|items:string", "array|items:number", "embedding:8", "object",
    "json", "secret", "ip4", "ip6", "buffer", "bits:16", "money", "crypto",
    "decimal:4", "geo:lat", "geo:lon", "geo:point", "uuid", "datetime",
    "dateonly", "timeonly", "mac", "cidr", "semver", "phone", "color",
    "duration", "ean", "text", "date", "any",
    "string|maxlength:4", "array|items:number|integer:true", "array|items:json",
    "array|items:string|length:2", "embedding:1", "number|min:0|max:10",
    "password", "email", "url", "geo:lat:2", "money:8", "bits:3",
    "number|optional", "decimal",
]


def raw_deflate(data):
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


B85 = "!#$%&()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_abcdefghijklmnopqrstuvwxyz{|}~"


def b85(data):
    out = []
    for i in range(0, len(data), 4):
        chunk = data[i:i + 4]
        n = int.from_bytes(chunk.ljust(4, b"\0"), "big")
        digits = []
        for _ in range(5):
            digits.append(B85[n % 85])
            n //= 85
        out.append("".join(reversed(digits))[:len(chunk) + 1])
    return "".join(out)


TEXT = ("The quick brown fox jumps over the lazy dog. " * 4).encode()
Z = "z:" + base64.b64encode(raw_deflate(TEXT)).decode()
Z85 = "z85:" + b85(raw_deflate(TEXT))

# (definition, stored string) pairs
VALUES = [
    ("string", "hello"), ("string", "[1,2]"), ("string", '{"a":1}'), ("string", "{}"),
    ("string", "u:Alice%20M%C3%BCller"), ("email", "alice@example.com"),
    ("number", "1A.6"), ("number", "1f"), ("number", "-1"), ("number", "0.5"),
    ("number|integer:true", "y"), ("number|integer:true", "4zXyLE1Gw"),
    ("number|integer:true", "-10"), ("number|integer:true", "FfGNdXsEa"),
    ("boolean", "1"), ("boolean", "0"), ("boolean", "yes"),
    ("array|items:string", "admin|ops\\|dev"), ("array|items:string", "x\\|y|back\\\\slash"),
    ("array|items:string", "|"), ("array|items:string", ""),
    ("array|items:number", "1|2.5|-3"), ("array|items:number|integer:true", "1|10|-5"),
    ("array|items:json", '[1,"a",{"b":2}]'),
    ("embedding:8", "^[q0U,-Q1O,1g2I]"), ("embedding:8", "^[0,4c92,-4c92]"),
    ("embedding:8", "0.1|-0.2"),
    ("object", '{"a":1,"b":"x"}'), ("json", "already-string"), ("json", '{"k":[1,2]}'),
    ("secret", "AQEBAQEBAQEBAQEBAQEBAQICAgICAgICAgICAmnSOoyH/MsQuC/eNr8cc+ZSRlgAhtWhsyw="),
    ("secret", "AQEBAQEBAQEBAQEBAQEB"),
    ("password", "$c$/ilFTAfxcZYUtygYcd/QkurQN0mmPnsz/KUzN9jOCjYMiLr9Q/F2u"),
    ("ip4", "wKgAAQ=="), ("ip4", "CgAA/w=="), ("ip6", "IAENuAAAAAAAAAAAAAAAAQ=="),
    ("buffer", "aGVsbG8="), ("bits:16", "AAE="), ("bits:3", "Bw=="),
    ("money", "$wf"), ("money", "$0"), ("money", "$8m0Kx"), ("crypto", "$3d7"),
    ("money:8", "$3d7"),
    ("decimal:4", "^8aI"), ("decimal", "^jV"), ("decimal", "^-5E"),
    ("geo:lat", "~4uOxO"), ("geo:lat", "~65D6U"), ("geo:lat", "~cbgdO"),
    ("geo:lon", "~91ALG"), ("geo:lon", "~omwrC"), ("geo:point", "~4v1GE~91JqU"),
    ("geo:point", "~6LAze~dxb8s"),
    ("uuid", "1yzBHq49i4y833Iawe1yOjy8"),
    ("datetime", "u1qrSFZ"), ("datetime", "tVCOKGI"), ("dateonly", "58l"),
    ("timeonly", "3lHd6"), ("timeonly", "3lP92"), ("timeonly", "0"),
    ("mac", "001YGnXwa"), ("cidr", "3wK86Yo"), ("semver", "4cFl"), ("phone", "1z2A2tcB"),
    ("color", "18gwM"), ("color", "00001"), ("duration", "mEMM"),
    ("ean", "12eVDq3bx"), ("ean", "0PNFI"),
    ("text", Z), ("text", Z85), ("text", "plain text"),
    ("date", '"2024-01-15T10:20:30.000Z"'), ("any", "5"), ("any", "true"),
    ("string|maxlength:4", "abcdef"), ("number|min:0|max:10", "Z"),
    ("geo:lat:2", "~4uOxO"), ("number|optional", "null"),
]

META = [
    "café", "naïve façade résumé", "ção", "éé", "日本語テキスト", "ab日本", "emoji 😀 ok",
    "line1\nline2", "\x7f", "ab\0cd", "d:abc", "z85:x", "100%", "a|b", '{"a":1}',
    "completed", "failed", "application/json", "application/octet-stream", "text/plain",
    "font/woff2", "https://example.com/x", "http://localhost:3000/a", "/api/v1/users",
    "https://exämple.com", "null", "undefined", "",
    "u:caf%C3%A9", "b:w6fDo28=", "b:5pel5pys6Kqe44OG44Kt44K544OI", "d:c", "d:@hexample.com/x",
    "d:@L3000/a", "u:%E0%A4%A", Z, Z85,
]

CONNSTR = [
    "s3://AKIA123:secret%2Fwith%2Fslash@my-bucket",
    "s3://AKIA123:secret@my-bucket/some/prefix",
    "s3://K:S@my-bucket/some/prefix/?region=eu-west-1&sessionToken=TOK",
    "s3://my-bucket",
    "http://minio:minio123@localhost:9000/bucket1",
    "http://minio:minio123@localhost:9000/bucket1/tenant/a",
    "https://KEY:SECRET@abc.r2.cloudflarestorage.com/bkt",
    "http://localhost:9000",
    "http://[::1]:9000/b/p",
    "memory://mybucket/path/to/db",
    "memory://",
    "file:///tmp/data/s3db",
    "file://./relative/dir",
    "file://localhost/var/x%20y",
    "file://c/data",
    "file://server/share/x",
]


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def decode_seeds():
    for n, (d, v) in enumerate(VALUES):
        safe = d.replace("|", "_").replace(":", "_")
        write("fuzz_decode", "%02d-%s" % (n, safe), bytes([DEFS.index(d)]) + v.encode())


def metaenc_seeds():
    for n, v in enumerate(META):
        write("fuzz_metaenc", "%02d" % n, v)


def connstr_seeds():
    for n, v in enumerate(CONNSTR):
        write("fuzz_connstr", "%02d" % n, v)


def catalog_seeds():
    write("fuzz_catalog", "fixtures-store", open(os.path.join(ROOT, "test/fixtures/store/s3db.json"), "rb").read())
    write("fuzz_catalog", "unit-example", open(os.path.join(ROOT, "test/unit/data/catalog/example.json"), "rb").read())
    small = {
        "version": "1", "s3dbVersion": "21.6.2",
        "resources": {
            "t": {"currentVersion": "v2",
                  "partitions": {"byA": {"fields": {"a": "string", "B": "number", "_c": "boolean"}}},
                  "versions": {
                      "v1": {"attributes": {"a": "string"}},
                      "v2": {"attributes": {"a": "string", "B": "number|integer:true",
                                            "_c": "boolean", "n": {"x": "ip4", "y": {"z": "uuid"}},
                                            "f": {"type": "array", "items": "string"},
                                            "p": {"type": "number", "__plugin__": "P"}},
                             "behavior": "body-only", "timestamps": True, "idSize": 8,
                             "idGenerator": "incremental"}},
                  "schemaRegistry": {"nextIndex": 9, "mapping": {"a": 0, "B": 2},
                                     "burned": [{"index": 1, "attribute": "old"}]},
                  "pluginSchemaRegistry": {"p": "pabc"}},
        },
    }
    write("fuzz_catalog", "small", json.dumps(small))
    write("fuzz_catalog", "empty", '{"version":"1","resources":{}}')
    # each resource of the fixtures on its own
    for src in ("test/fixtures/store/s3db.json", "test/unit/data/catalog/example.json"):
        doc = json.load(open(os.path.join(ROOT, src), encoding="utf-8"))
        for name, res in sorted(doc.get("resources", {}).items()):
            one = dict(doc)
            one["resources"] = {name: res}
            write("fuzz_catalog", "%s-%s" % (os.path.basename(os.path.dirname(src)), name),
                  json.dumps(one, separators=(",", ":")))


# fuzz_record: byte 0 = resource/flags, byte 1 = pairs; keys of its fixed catalog
RECORD_KEYS_R1 = {"s": "0", "n": "1", "i": "2", "b": "3", "as": "4", "an": "5", "e": "7",
                  "o": "8", "j": "9", "ip": "a", "ip6": "b", "buf": "c", "bits": "d", "m": "e",
                  "dec": "g", "lat": "h", "pt": "j", "u": "k", "dt": "l", "d": "m", "t": "n",
                  "mac": "o", "cidr": "p", "ph": "r", "col": "s", "ean": "u", "txt": "v",
                  "date": "w", "nest.city": "12", "nest.deep.x": "14"}


def record_input(resource, body, ctype_bits, pairs, ident="r1", extra_flags=0):
    flags = resource | (8 if body is not None else 0) | (ctype_bits << 4) | extra_flags
    out = bytes([flags, len(pairs)]) + ident.encode() + b"\0"
    for k, v in pairs:
        out += k.encode() + b"\0" + v.encode() + b"\0"
    if body is not None:
        out += body if isinstance(body, bytes) else body.encode()
    return out


def record_seeds():
    vals = {"s": "hello", "n": "1A.6", "i": "y", "b": "1", "as": "a|b\\|c", "an": "1|2.5|-3",
            "e": "^[q0U,-Q1O,1g2I,0]", "o": '{"a":1}', "j": "[1,2]", "ip": "wKgAAQ==",
            "ip6": "IAENuAAAAAAAAAAAAAAAAQ==", "buf": "aGVsbG8=", "bits": "AAE=", "m": "$wf",
            "dec": "^8aI", "lat": "~4uOxO", "pt": "~4v1GE~91JqU", "u": "1yzBHq49i4y833Iawe1yOjy8",
            "dt": "u1qrSFZ", "d": "58l", "t": "3lP92", "mac": "001YGnXwa", "cidr": "3wK86Yo",
            "ph": "1z2A2tcB", "col": "18gwM", "ean": "12eVDq3bx", "txt": Z,
            "date": '"2024-01-15T10:20:30.000Z"', "nest.city": "u:S%C3%A3o%20Paulo",
            "nest.deep.x": "G"}
    pairs = [(RECORD_KEYS_R1[a], v) for a, v in vals.items()]
    write("fuzz_record", "r1-all-meta", record_input(1, None, 1, pairs + [("_v", "v1")]))
    half = len(pairs) // 2
    body = json.dumps({k: v for k, v in pairs[half:]})
    write("fuzz_record", "r1-overflow", record_input(1, body, 0, pairs[:half] + [("_v", "v1"), ("_overflow", "true")]))
    bodyonly = json.dumps(dict(pairs + [("_v", "v1")]))
    write("fuzz_record", "r2-body-only", record_input(2, bodyonly, 0, [("_v", "v1")]))
    write("fuzz_record", "r2-body-only-map", record_input(2, json.dumps({"0": "x", "zz": 5}), 0,
                                                      [("_v", "v1"), ("_map", '{"s":"zz","n":"0"}')]))
    write("fuzz_record", "r3-truncated", record_input(3, None, 2, pairs[:5] + [("_truncated", "true")]))
    write("fuzz_record", "r4-limits", record_input(4, "", 1, pairs[:8]))
    write("fuzz_record", "r0-registry", record_input(0, json.dumps({"1e": True, "14": {}, "n": 1.5}), 3,
                                                 [("0", "d:c"), ("2", "-10"), ("3", "orphan"),
                                                  ("_pluginmap", '{"_score":"pnhj"}'), ("pnhj", "42"),
                                                  ("metadata_updatedat", "x")], extra_flags=0x40))
    write("fuzz_record", "r1-content", record_input(1, b"\x00\x01binary", 1,
                                                [("_hascontent", "true"), ("_mimetype", "d:T"),
                                                 ("_contentlength", "8")]))
    # the repository's object fixtures: metadata and body, under each behavior
    n = 0
    for meta_path in sorted(glob.glob(os.path.join(ROOT, "test/fixtures/store/resource=*/data/*.meta.json"))):
        doc = json.load(open(meta_path, encoding="utf-8"))
        body = bytes(doc.get("body", {}).get("data", []))
        md = sorted(doc.get("metadata", {}).items())
        ctype = 0 if doc.get("contentType") == "application/json" else 1
        ident = os.path.basename(meta_path)[3:-10]
        write("fuzz_record", "fixture-%02d" % n,
              record_input(n % 5, body, ctype, md, ident))
        n += 1


NS = ' xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'
S3XML = [
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key '
    'does not exist.</Message><Key>resource=users/data/id=x</Key><RequestId>4442587FB7D0A2F9</RequestId>'
    '</Error>',
    '<Error><Code>PermanentRedirect</Code><Message>use the endpoint</Message>'
    '<Endpoint>b.s3.eu-west-1.amazonaws.com</Endpoint><Region>eu-west-1</Region></Error>',
    '<Error><Code>RequestTimeTooSkewed</Code><ServerTime>2024-01-15T10:20:30Z</ServerTime>'
    '<StringToSign>AWS4-HMAC-SHA256</StringToSign></Error>',
    '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult%s><Name>b</Name>'
    '<Prefix>tenant/db1/resource=users/data/</Prefix><KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys>'
    '<IsTruncated>true</IsTruncated><NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>'
    '<Contents><Key>tenant/db1/resource=users/data/id=alice</Key><LastModified>2024-01-15T10:20:30.123Z</LastModified>'
    '<ETag>&quot;d41d8cd98f00b204e9800998ecf8427e&quot;</ETag><Size>0</Size><StorageClass>STANDARD</StorageClass></Contents>'
    '<Contents><Key>tenant/db1/resource=users/data/id=b%%C3%%B6b</Key><Size>2108</Size></Contents>'
    '</ListBucketResult>' % NS,
    '<ListBucketResult><Prefix>resource=people/partition=byCity/</Prefix><Delimiter>/</Delimiter>'
    '<IsTruncated>false</IsTruncated><CommonPrefixes><Prefix>resource=people/partition=byCity/profile.city=Rio/</Prefix>'
    '</CommonPrefixes><CommonPrefixes><Prefix>other/x/</Prefix></CommonPrefixes></ListBucketResult>',
    '<DeleteResult%s><Deleted><Key>a</Key></Deleted><Error><Key>b</Key><Code>AccessDenied</Code>'
    '<Message>Access Denied</Message></Error></DeleteResult>' % NS,
    '<CopyObjectResult><LastModified>2009-10-12T17:50:30.000Z</LastModified>'
    '<ETag>"9b2cf535f27731c974343645a3985328"</ETag></CopyObjectResult>',
    '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><Error><Code>&e;</Code></Error>',
    '"quoted-etag"',
]


def s3xml_seeds():
    for n, v in enumerate(S3XML):
        write("fuzz_s3xml", "%02d-noprefix" % n, b"\0" + v.encode())
        write("fuzz_s3xml", "%02d-prefix" % n, b"\1" + v.encode())


def sidecar_seeds():
    n = 0
    for meta_path in sorted(glob.glob(os.path.join(ROOT, "test/fixtures/store/**/*.meta.json"),
                                      recursive=True)):
        data = open(meta_path, "rb").read()
        if len(data) > 4096:
            continue            # over the target's -max_len
        write("fuzz_sidecar", "fixture-%02d" % n, data)
        n += 1
        if n >= 20:
            break
    write("fuzz_sidecar", "minimal", '{"metadata":{},"contentType":"application/octet-stream"}')
    write("fuzz_sidecar", "odd", '{"metadata":{"a":1,"b":null,"c":{"x":[]}},"size":-1,'
          '"lastModified":"not a date","compressed":"yes","etag":7}')


if __name__ == "__main__":
    s3xml_seeds()
    sidecar_seeds()
    decode_seeds()
    metaenc_seeds()
    connstr_seeds()
    catalog_seeds()
    record_seeds()
