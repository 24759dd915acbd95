#!/usr/bin/env python3
"""Regenerate the small committed hostile files of tests/data/hostile/.

    python3 tests/data/hostile/make_small.py [OUTDIR]   (default: this dir)

Deterministic (fixed seeds and timestamps); stdlib only.  The big ones are
made at test time by make_big.py.  See README.md for expected outcomes.
"""
import gzip
import io
import os
import random
import sys
import zipfile

BEGIN, END = 1768003200, 1768089599          # 2026-01-10, one day


def report(org="hostile.example", email="dmarc@hostile.example",
           report_id="hostile-0001", begin=BEGIN, end=END,
           domain="example.org", source_ip="192.0.2.10", count="1",
           comment=None, date_range=True, rid=True, pdomain=True,
           prolog='<?xml version="1.0" encoding="UTF-8"?>\n', root="feedback",
           header_from=None):
    md = ["  <report_metadata>\n",
          "    <org_name>%s</org_name>\n" % org,
          "    <email>%s</email>\n" % email]
    if rid:
        md.append("    <report_id>%s</report_id>\n" % report_id)
    if date_range:
        md.append("    <date_range>\n      <begin>%s</begin>\n"
                  "      <end>%s</end>\n    </date_range>\n" % (begin, end))
    md.append("  </report_metadata>\n")
    pp = ["  <policy_published>\n"]
    if pdomain:
        pp.append("    <domain>%s</domain>\n" % domain)
    pp.append("    <adkim>r</adkim>\n    <aspf>r</aspf>\n    <p>none</p>\n"
              "    <sp>none</sp>\n    <pct>100</pct>\n  </policy_published>\n")
    reason = ""
    if comment is not None:
        reason = ("        <reason>\n          <type>other</type>\n"
                  "          <comment>%s</comment>\n        </reason>\n"
                  % comment)
    hf = header_from or domain
    rec = ("  <record>\n    <row>\n      <source_ip>%s</source_ip>\n"
           "      <count>%s</count>\n      <policy_evaluated>\n"
           "        <disposition>none</disposition>\n"
           "        <dkim>pass</dkim>\n        <spf>pass</spf>\n%s"
           "      </policy_evaluated>\n    </row>\n"
           "    <identifiers>\n      <header_from>%s</header_from>\n"
           "    </identifiers>\n    <auth_results>\n"
           "      <dkim>\n        <domain>%s</domain>\n"
           "        <selector>s1</selector>\n        <result>pass</result>\n"
           "      </dkim>\n      <spf>\n        <domain>%s</domain>\n"
           "        <scope>mfrom</scope>\n        <result>pass</result>\n"
           "      </spf>\n    </auth_results>\n  </record>\n"
           % (source_ip, count, reason, hf, hf, hf))
    return (prolog + "<%s>\n" % root + "".join(md) + "".join(pp) + rec
            + "</%s>\n" % root)


def gz(data, name):
    buf = io.BytesIO()
    with gzip.GzipFile(filename=name, mode="wb", fileobj=buf, mtime=BEGIN) as g:
        g.write(data)
    return buf.getvalue()


def zipped(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            zi = zipfile.ZipInfo(name, date_time=(2026, 1, 11, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, data)
    return buf.getvalue()


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(
        os.path.abspath(__file__))
    os.makedirs(out, exist_ok=True)
    files = {}
    ok = report().encode()

    files["empty.xml"] = b""
    files["whitespace-only.xml"] = b" \n\t\r\n   \n\n\t \r\n"
    files["binary-junk.xml"] = bytes(random.Random(7489).getrandbits(8)
                                     for _ in range(4096))
    files["truncated.xml"] = ok[: ok.index(b"<auth_results>") + 20]
    files["invalid-xml.xml"] = (report().replace("</org_name>", "</orgname>")
                                .encode())
    files["not-feedback-root.xml"] = report(root="report").encode()
    files["not-feedback-html.xml"] = (
        b"<!DOCTYPE html>\n<html><head><title>DMARC</title></head>"
        b"<body><p>Your report is attached.</p></body></html>\n")
    files["missing-report-id.xml"] = report(rid=False).encode()
    files["missing-date-range.xml"] = report(date_range=False).encode()
    files["missing-policy-domain.xml"] = report(pdomain=False).encode()

    lol = ['<?xml version="1.0"?>\n<!DOCTYPE feedback [\n'
           '  <!ENTITY lol "lol">\n']
    prev = "lol"
    for i in range(1, 10):
        lol.append('  <!ENTITY lol%d "%s">\n' % (i, ("&%s;" % prev) * 10))
        prev = "lol%d" % i
    lol.append("]>\n")
    files["billion-laughs.xml"] = report(
        prolog="".join(lol), org="&lol9;").encode()
    files["xxe-file.xml"] = report(
        prolog='<?xml version="1.0"?>\n<!DOCTYPE feedback [\n'
               '  <!ENTITY xxe SYSTEM "file:///etc/passwd">\n]>\n',
        org="&xxe;", report_id="xxe-&xxe;").encode()

    files["count-negative.xml"] = report(count="-5").encode()
    files["count-non-numeric.xml"] = report(count="twelve").encode()
    files["count-2pow63.xml"] = report(count="9223372036854775808").encode()
    files["end-before-begin.xml"] = report(begin=END, end=BEGIN).encode()
    files["begin-before-1970.xml"] = report(begin=-86400, end=86399).encode()
    files["invalid-source-ip.xml"] = report(
        source_ip="not-an-ip 999.1.2.3").encode()
    files["huge-domain-name.xml"] = report(
        domain=("a" * 63 + ".") * 1600 + "example.org",
        header_from="example.org").encode()   # ~100 KB

    esc_org = "Evil Corp'); DROP TABLE reports;-- \x1b[31mRED\x1b[0m"
    esc_rid = "x' OR '1'='1\"; --\x1b]0;pwned\x07 %s \\ `id` $(id)"
    esc_comment = ("\x1b[2J\x1b[H\x1b]0;title\x07 '; DELETE FROM records; -- "
                   "&amp; &lt;script&gt; NUL-free")
    files["sql-and-terminal-escapes.xml"] = report(
        org=esc_org, report_id=esc_rid, comment=esc_comment).encode()

    files["zip-slip.zip"] = zipped([
        ("../evil.xml", report(report_id="zip-slip-dotdot").encode()),
        ("/etc/evil.xml", report(report_id="zip-slip-absolute").encode()),
    ])
    good_zip = zipped([("report.xml", ok)])
    bad = bytearray(good_zip)
    # Flip bytes inside the deflate stream (header at 0..30+len(name)).
    for i in range(45, 75):
        bad[i] ^= 0x5A
    files["corrupt.zip"] = bytes(bad)
    files["truncated.zip"] = good_zip[: len(good_zip) // 2]
    good_gz = gz(ok, "report.xml")
    badg = bytearray(good_gz)
    for i in range(25, 55):
        badg[i] ^= 0xA5
    files["corrupt.xml.gz"] = bytes(badg)
    files["truncated.xml.gz"] = good_gz[: len(good_gz) // 2]
    files["gzip-of-text.xml.gz"] = gz(
        b"Hello,\n\nthis is a plain text file, not a DMARC report.\n"
        b"Regards,\nthe postmaster\n", "notes.txt")

    for name, data in sorted(files.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        print("%8d  %s" % (len(data), name))


if __name__ == "__main__":
    main()
