#!/usr/bin/python3
"""
check-meta.py - check META.json against the PGXN Meta Spec 1.0.0.

No PGXN validator is packaged for Debian, so this checks what the spec
requires and what PGXN rejects: the required keys and their types, SemVer
versions, license names, the provides entries (their files must exist),
prereqs phases and relations, tag and name syntax, custom keys prefixed
x_.  It also checks that META.json, s3db_fdw.control and debian/changelog
agree on the version.  Exit status 1 with one line per problem.

Usage: tools/check-meta.py [META.json]
"""
import json
import os
import re
import sys

SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
                    r"(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$")
LICENSES = {
    "agpl_3", "apache_1_1", "apache_2_0", "artistic_1", "artistic_2", "bsd",
    "freebsd", "gfdl_1_2", "gfdl_1_3", "gpl_1", "gpl_2", "gpl_3", "lgpl_2_1",
    "lgpl_3_0", "mit", "mozilla_1_0", "mozilla_1_1", "openssl", "perl_5",
    "postgresql", "qpl_1_0", "ssleay", "sun", "zlib", "open_source",
    "restricted", "unrestricted", "unknown",
}
KNOWN = {"name", "version", "abstract", "maintainer", "license", "provides",
         "meta-spec", "description", "generated_by", "tags", "no_index",
         "prereqs", "release_status", "resources"}
PHASES = {"configure", "build", "test", "runtime", "develop"}
RELATIONS = {"requires", "recommends", "suggests", "conflicts"}
VERSION_RANGE = re.compile(r"^\s*(?:(?:[<>]=?|==|!=)\s*)?\d+(?:\.\d+){0,2}"
                           r"(?:\s*,\s*(?:[<>]=?|==|!=)\s*\d+(?:\.\d+){0,2})*\s*$")


def term_ok(s, minlen=2):
    return isinstance(s, str) and len(s) >= minlen and not re.search(r"[\s/\\\x00-\x1f]", s)


def check(meta, top):
    problems = []
    p = problems.append
    if not isinstance(meta, dict):
        return ["META.json is not a JSON object"]
    for key in ("name", "version", "abstract", "maintainer", "license", "provides", "meta-spec"):
        if key not in meta:
            p("required key %r is missing" % key)
    for key in meta:
        if key not in KNOWN and not key.lower().startswith("x_"):
            p("unknown key %r (custom keys start with x_)" % key)

    if "name" in meta and not term_ok(meta["name"]):
        p("name must be a term of 2+ characters without spaces or slashes")
    if "version" in meta and not (isinstance(meta["version"], str) and SEMVER.match(meta["version"])):
        p("version %r is not SemVer" % meta.get("version"))
    if "abstract" in meta and not (isinstance(meta["abstract"], str) and meta["abstract"].strip()):
        p("abstract must be a non-empty string")
    m = meta.get("maintainer")
    if "maintainer" in meta and not (
            (isinstance(m, str) and m.strip()) or
            (isinstance(m, list) and m and all(isinstance(x, str) and x.strip() for x in m))):
        p("maintainer must be a string or a non-empty array of strings")

    lic = meta.get("license")
    if isinstance(lic, str):
        if lic not in LICENSES:
            p("license %r is not a name the spec lists" % lic)
    elif isinstance(lic, list):
        if not lic or any(x not in LICENSES for x in lic):
            p("license array holds names the spec does not list")
    elif isinstance(lic, dict):
        if not lic or not all(isinstance(v, str) and v.startswith("http") for v in lic.values()):
            p("license object must map names to URLs")
    elif "license" in meta:
        p("license must be a string, an array or an object")

    ms = meta.get("meta-spec")
    if "meta-spec" in meta and not (isinstance(ms, dict) and ms.get("version") == "1.0.0"):
        p("meta-spec must be an object with version \"1.0.0\"")

    provides = meta.get("provides")
    if "provides" in meta:
        if not isinstance(provides, dict) or not provides:
            p("provides must be a non-empty object")
        else:
            for ext, d in provides.items():
                if not term_ok(ext):
                    p("provides: %r is not a valid extension name" % ext)
                if not isinstance(d, dict):
                    p("provides.%s must be an object" % ext)
                    continue
                for k in ("file", "version"):
                    if k not in d:
                        p("provides.%s.%s is required" % (ext, k))
                if "version" in d and not (isinstance(d["version"], str) and SEMVER.match(d["version"])):
                    p("provides.%s.version is not SemVer" % ext)
                for k in ("file", "docfile"):
                    if k in d and not os.path.isfile(os.path.join(top, d[k])):
                        p("provides.%s.%s names %r, which does not exist" % (ext, k, d[k]))
                for k in d:
                    if k not in ("file", "version", "abstract", "docfile") and not k.lower().startswith("x_"):
                        p("provides.%s: unknown key %r" % (ext, k))

    prereqs = meta.get("prereqs", {})
    if not isinstance(prereqs, dict):
        p("prereqs must be an object")
        prereqs = {}
    for phase, rels in prereqs.items():
        if phase not in PHASES:
            p("prereqs: unknown phase %r" % phase)
            continue
        if not isinstance(rels, dict):
            p("prereqs.%s must be an object" % phase)
            continue
        for rel, deps in rels.items():
            if rel not in RELATIONS:
                p("prereqs.%s: unknown relation %r" % (phase, rel))
                continue
            if not isinstance(deps, dict):
                p("prereqs.%s.%s must be an object" % (phase, rel))
                continue
            for dep, ver in deps.items():
                if not (isinstance(ver, str) and (ver == "0" or SEMVER.match(ver) or VERSION_RANGE.match(ver))):
                    p("prereqs.%s.%s.%s: %r is not a version or range" % (phase, rel, dep, ver))

    if "release_status" in meta and meta["release_status"] not in ("stable", "testing", "unstable"):
        p("release_status must be stable, testing or unstable")
    tags = meta.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) and 0 < len(t) <= 255 and
                                             not re.search(r"[/\\\x00-\x1f]", t) for t in tags):
        p("tags must be an array of strings of 1 to 255 characters without slashes")
    res = meta.get("resources", {})
    if not isinstance(res, dict) or any(k not in ("homepage", "bugtracker", "repository") and
                                        not k.lower().startswith("x_") for k in res):
        p("resources may hold homepage, bugtracker and repository")
    return problems


def cross_check(meta, top):
    """META.json, the control file and debian/changelog name one version."""
    problems = []
    version = meta.get("version")
    control = os.path.join(top, "s3db_fdw.control")
    if os.path.isfile(control):
        m = re.search(r"^default_version\s*=\s*'([^']*)'", open(control).read(), re.M)
        if not m or m.group(1) != version:
            problems.append("s3db_fdw.control default_version differs from META.json version %s" % version)
        ext = meta.get("provides", {}).get("s3db_fdw", {})
        if m and ext.get("version") != m.group(1):
            problems.append("provides.s3db_fdw.version differs from the control file")
        if m and ext.get("file") != "sql/s3db_fdw--%s.sql" % m.group(1):
            problems.append("provides.s3db_fdw.file is not the install script of the default version")
    changelog = os.path.join(top, "debian", "changelog")
    if os.path.isfile(changelog):
        m = re.match(r"^\S+ \(([^)-]+)(?:-[^)]*)?\)", open(changelog).readline())
        if not m or m.group(1) != version:
            problems.append("debian/changelog's upstream version differs from META.json version %s" % version)
    return problems


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "META.json"
    top = os.path.dirname(os.path.abspath(path))
    try:
        with open(path, encoding="utf-8") as f:
            meta = json.load(f)
    except (OSError, ValueError) as e:
        print("META.json: %s" % e)
        return 1
    problems = check(meta, top)
    if not problems:
        problems = cross_check(meta, top)
    for line in problems:
        print("META.json: " + line)
    if not problems:
        print("META.json: valid PGXN metadata (meta-spec 1.0.0), version %s" % meta["version"])
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
