#!/usr/bin/env python3
"""Generate the big hostile inputs at test time (never commit them).

    python3 tests/data/hostile/make_big.py OUTDIR [--only NAME[,NAME...]]

Everything is written streaming (bounded memory, a few MB at most) and is
deterministic.  Names (see README.md for expected outcomes):

  gzip-bomb.xml.gz            1 GiB of zero bytes, gzip -9  (~1 MB on disk)
  nested-gzip-bomb.xml.gz.gz  the same bomb gzipped again   (~few KB)
  zip-100k-members.zip        100,000 tiny members          (~10 MB)
  deep-nesting.xml            10,000 nested elements inside <feedback>
  huge-text-node.xml          200 MB single text node in <org_name>

stdlib only.  Prints "<bytes>  <name>" per file written.
"""
import argparse
import gzip
import os
import struct
import zipfile
import zlib

MiB = 1 << 20
FIXED_MTIME = 1768003200          # 2026-01-10T00:00:00Z


def gzip_stream(src_chunks, dst, name):
    """Gzip an iterable of byte chunks into the open binary file dst."""
    with gzip.GzipFile(filename=name, mode="wb", fileobj=dst,
                       compresslevel=9, mtime=FIXED_MTIME) as g:
        for chunk in src_chunks:
            g.write(chunk)


def zeros(total, chunk=MiB):
    block = bytes(chunk)
    left = total
    while left > 0:
        n = min(chunk, left)
        yield block if n == chunk else bytes(n)
        left -= n


def make_gzip_bomb(path):
    with open(path, "wb") as f:
        gzip_stream(zeros(1 << 30), f, "bomb.xml")


def make_nested_bomb(path, inner):
    def chunks():
        with open(inner, "rb") as f:
            while True:
                b = f.read(MiB)
                if not b:
                    return
                yield b
    with open(path, "wb") as f:
        gzip_stream(chunks(), f, "bomb.xml.gz")


def make_zip_members(path, n=100000):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for i in range(n):
            zi = zipfile.ZipInfo("m%06d.xml" % i,
                                 date_time=(2026, 1, 10, 0, 0, 0))
            z.writestr(zi, b"<x/>")


def make_deep(path, depth=10000):
    with open(path, "wb") as f:
        f.write(b'<?xml version="1.0"?>\n<feedback>')
        f.write(b"<a>" * depth)
        f.write(b"deep")
        f.write(b"</a>" * depth)
        f.write(b"</feedback>\n")


def make_huge_text(path, size=200 * 1000 * 1000):
    head = (b'<?xml version="1.0"?>\n<feedback>\n  <report_metadata>\n'
            b"    <org_name>")
    tail = (b"</org_name>\n    <email>dmarc@hostile.example</email>\n"
            b"    <report_id>huge-text-0001</report_id>\n"
            b"    <date_range><begin>1768003200</begin>"
            b"<end>1768089599</end></date_range>\n  </report_metadata>\n"
            b"  <policy_published><domain>example.org</domain><p>none</p>"
            b"</policy_published>\n  <record><row><source_ip>192.0.2.10"
            b"</source_ip><count>1</count><policy_evaluated><disposition>none"
            b"</disposition><dkim>pass</dkim><spf>pass</spf>"
            b"</policy_evaluated></row><identifiers><header_from>example.org"
            b"</header_from></identifiers><auth_results><spf><domain>"
            b"example.org</domain><result>pass</result></spf></auth_results>"
            b"</record>\n</feedback>\n")
    block = b"A" * MiB
    with open(path, "wb") as f:
        f.write(head)
        left = size
        while left > 0:
            n = min(MiB, left)
            f.write(block if n == MiB else block[:n])
            left -= n
        f.write(tail)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("outdir")
    ap.add_argument("--only", default="",
                    help="comma-separated subset of the names above")
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    p = lambda n: os.path.join(a.outdir, n)
    jobs = [
        ("gzip-bomb.xml.gz", lambda: make_gzip_bomb(p("gzip-bomb.xml.gz"))),
        ("nested-gzip-bomb.xml.gz.gz", None),
        ("zip-100k-members.zip",
         lambda: make_zip_members(p("zip-100k-members.zip"))),
        ("deep-nesting.xml", lambda: make_deep(p("deep-nesting.xml"))),
        ("huge-text-node.xml", lambda: make_huge_text(p("huge-text-node.xml"))),
    ]
    only = set(x for x in a.only.split(",") if x)
    for name, fn in jobs:
        if only and name not in only:
            continue
        if name == "nested-gzip-bomb.xml.gz.gz":
            inner = p("gzip-bomb.xml.gz")
            if not os.path.exists(inner):
                make_gzip_bomb(inner)
            make_nested_bomb(p(name), inner)
        else:
            fn()
        print("%12d  %s" % (os.path.getsize(p(name)), name), flush=True)


if __name__ == "__main__":
    main()
