#!/usr/bin/env python3
"""Regenerates the .eml fixtures of tests/unit/test_mime.cpp, byte for byte.

Everything is deterministic: gzip with mtime 0, zip with a fixed timestamp,
fixed boundaries. Usage: python3 make_mail.py [OUTDIR] (default: this folder).
"""
import base64
import gzip
import io
import os
import quopri
import sys
import zipfile

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))

REPORT_XML = b"""<?xml version="1.0" encoding="UTF-8"?>
<feedback>
  <report_metadata>
    <org_name>example.net</org_name>
    <email>noreply-dmarc@example.net</email>
    <report_id>fixture-0001</report_id>
    <date_range><begin>1700000000</begin><end>1700086399</end></date_range>
  </report_metadata>
  <policy_published><domain>example.com</domain><p>none</p></policy_published>
  <record>
    <row><source_ip>192.0.2.1</source_ip><count>3</count>
      <policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>pass</spf></policy_evaluated>
    </row>
    <identifiers><header_from>example.com</header_from></identifiers>
    <auth_results><spf><domain>example.com</domain><result>pass</result></spf></auth_results>
  </record>
</feedback>
"""

XML_NAME = "example.net!example.com!1700000000!1700086399.xml"


def gz(data):
    return gzip.compress(data, compresslevel=9, mtime=0)


def zipped(name, data):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo(name, date_time=(2023, 11, 15, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, data)
    return buffer.getvalue()


def b64(data):
    text = base64.b64encode(data).decode()
    return "\n".join(text[i:i + 76] for i in range(0, len(text), 76))


def headers(subject, content_type, extra=""):
    return (f"From: DMARC Reporter <noreply-dmarc@example.net>\n"
            f"To: dmarc@example.com\n"
            f"Subject: {subject}\n"
            f"Date: Wed, 15 Nov 2023 00:00:00 +0000\n"
            f"Message-ID: <{subject.split()[0].lower()}-fixture@example.net>\n"
            f"MIME-Version: 1.0\n"
            f"{extra}"
            f"Content-Type: {content_type}\n")


def write(name, text, crlf):
    data = text.encode("utf-8") if isinstance(text, str) else text
    if crlf:
        data = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def attachment(content_type, filename, payload, disposition=True):
    lines = f"Content-Type: {content_type}; name=\"{filename}\"\n"
    if disposition:
        lines += f"Content-Disposition: attachment; filename=\"{filename}\"\n"
    return lines + "Content-Transfer-Encoding: base64\n\n" + b64(payload) + "\n"


def main():
    os.makedirs(OUT, exist_ok=True)
    zip_payload = zipped(XML_NAME, REPORT_XML)
    gz_payload = gz(REPORT_XML)

    # Google: multipart/mixed, empty text part, base64 application/zip, CRLF.
    write("google_zip.eml", headers("Report domain: example.com Submitter: google.com",
                                    'multipart/mixed; boundary="000000000000g00g1e"')
          + "\n--000000000000g00g1e\nContent-Type: text/plain; charset=\"UTF-8\"\n\n\n"
          + "--000000000000g00g1e\n"
          + attachment("application/zip", "google.com!example.com!1700000000!1700086399.zip",
                       zip_payload)
          + "--000000000000g00g1e--\n", crlf=True)

    # Microsoft: text part, then application/gzip, CRLF, folded Content-Type.
    write("microsoft_gzip.eml", headers("Report Domain: example.com Submitter: protection.outlook.com",
                                        'multipart/mixed;\n\tboundary="_000_MSFT_"')
          + "\n--_000_MSFT_\nContent-Type: text/plain; charset=\"us-ascii\"\n"
          + "Content-Transfer-Encoding: quoted-printable\n\n"
          + "This is a DMARC aggregate report from Microsoft Corporation.=0D=0A\n\n"
          + "--_000_MSFT_\n"
          + attachment("application/gzip",
                       "protection.outlook.com!example.com!1700000000!1700086399.xml.gz", gz_payload)
          + "\n--_000_MSFT_--\n", crlf=True)

    # Yahoo: single-part application/zip message, LF only.
    write("yahoo_single_part.eml",
          headers("Report Domain: example.com Submitter: yahoo.com",
                  'application/zip; name="yahoo.com!example.com!1700000000!1700086399.xml.zip"',
                  extra='Content-Disposition: attachment;\n filename="yahoo.com!example.com!1700000000!1700086399.xml.zip"\n'
                        "Content-Transfer-Encoding: base64\n")
          + "\n" + b64(zip_payload) + "\n", crlf=False)

    # Quoted-printable text/xml attachment inside multipart, LF.
    qp = quopri.encodestring(REPORT_XML.replace(b"<feedback>", b"<feedback> =\xc3\xa9")).decode()
    write("qp_text_xml.eml", headers("Report qp", 'multipart/mixed; boundary="qp"')
          + "\n--qp\nContent-Type: text/xml; name=\"report.xml\"\n"
          + "Content-Transfer-Encoding: quoted-printable\n\n" + qp + "\n--qp--\n", crlf=False)

    # Inline XML: the whole message body is the report, no MIME structure.
    write("inline_xml.eml", headers("Report inline", "text/xml; charset=utf-8") + "\n"
          + REPORT_XML.decode(), crlf=True)

    # application/octet-stream that is really gzip; text/plain that is gzip.
    write("octet_stream_gzip.eml", headers("Report octet", 'multipart/mixed; boundary="oct"')
          + "\n--oct\n" + attachment("application/octet-stream", "report.xml.gz", gz_payload)
          + "--oct--\n", crlf=True)
    write("text_plain_mislabelled.eml", headers("Report mislabelled", 'multipart/mixed; boundary="tp"')
          + "\n--tp\n" + attachment("text/plain", "report.gz", gz_payload) + "--tp--\n", crlf=False)

    # RFC 2231: charset + continuations, and RFC 2047 in a quoted name.
    write("rfc2231_filename.eml", headers("Report rfc2231", 'multipart/mixed; boundary="r2231"')
          + "\n--r2231\nContent-Type: application/gzip; name*=UTF-8''b%C3%BCcher.xml.gz\n"
          + "Content-Disposition: attachment; filename*0*=utf-8''b%C3%BCcher.example;\n"
          + " filename*1=\"!1700000000!1700086399.xml.gz\"\n"
          + "Content-Transfer-Encoding: base64\n\n" + b64(gz_payload) + "\n--r2231--\n", crlf=True)
    write("rfc2047_filename.eml",
          "From: =?iso-8859-1?Q?J=FCrgen?= <j@example.net>\nTo: dmarc@example.com\n"
          "Subject: =?UTF-8?B?UmVwb3J0IGRvbWFpbjog?= =?UTF-8?Q?b=C3=BCcher.example?=\n"
          "Message-ID: <rfc2047@example.net>\nMIME-Version: 1.0\n"
          'Content-Type: multipart/mixed; boundary="r2047"\n\n--r2047\n'
          'Content-Type: application/gzip; name="=?windows-1252?Q?r=E9sum=E9_=80.xml.gz?="\n'
          "Content-Transfer-Encoding: base64\n\n" + b64(gz_payload) + "\n--r2047--\n", crlf=False)

    # Nested multipart: mixed > alternative (text, html) + gzip.
    write("nested_multipart.eml", headers("Report nested", 'multipart/mixed; boundary="outer"')
          + "\nThis is a multi-part message in MIME format.\n"
          + "--outer\nContent-Type: multipart/alternative; boundary=\"inner\"\n\n"
          + "--inner\nContent-Type: text/plain\n\nplain\n"
          + "--inner\nContent-Type: text/html\n\n<p>html</p>\n--inner--\n\n"
          + "--outer\n" + attachment("application/gzip", "nested.xml.gz", gz_payload)
          + "--outer--\nepilogue\n", crlf=True)

    # A report forwarded as message/rfc822.
    inner = (headers("Report forwarded-inner", 'multipart/mixed; boundary="inner"')
             + "\n--inner\n" + attachment("application/zip", "inner.zip", zip_payload) + "--inner--\n")
    write("rfc822_attachment.eml", headers("Fwd forwarded report", 'multipart/mixed; boundary="fwd"')
          + "\n--fwd\nContent-Type: text/plain\n\nsee attached\n"
          + "--fwd\nContent-Type: message/rfc822\nContent-Disposition: attachment\n\n" + inner
          + "\n--fwd--\n", crlf=True)

    # Two reports in one mail.
    write("two_reports.eml", headers("Report two", 'multipart/mixed; boundary="two"')
          + "\n--two\n" + attachment("application/gzip", "first.xml.gz", gz_payload)
          + "--two\n" + attachment("application/zip", "second.zip", zip_payload) + "--two--\n",
          crlf=False)

    # Missing final boundary; truncated base64 in the middle of a part.
    write("missing_final_boundary.eml", headers("Report unterminated", 'multipart/mixed; boundary="mf"')
          + "\n--mf\n" + attachment("application/gzip", "mf.xml.gz", gz_payload), crlf=True)
    truncated = (headers("Report truncated", 'multipart/mixed; boundary="tr"')
                 + "\n--tr\n" + attachment("application/gzip", "tr.xml.gz", gz_payload))
    write("truncated.eml", truncated[: len(truncated) - 60], crlf=True)

    # "ContentType:" typo at the top level, no Content-Type at all.
    typo = headers("Report typo", 'multipart/mixed; boundary="typo"').replace(
        "Content-Type:", "ContentType:")
    write("contenttype_typo.eml", typo + "\n--typo\n"
          + attachment("application/gzip", "typo.xml.gz", gz_payload) + "--typo--\n", crlf=False)

    # Body text "unused" before the report; non-report mail; mbox From_ line.
    write("body_unused.eml", headers("Report unused", 'multipart/mixed; boundary="un"')
          + "\n--un\nContent-Type: text/plain\n\nunused\n--un\n"
          + attachment("application/gzip", "unused.xml.gz", gz_payload) + "--un--\n", crlf=True)
    write("not_a_report.eml", "From: friend@example.org\nTo: dmarc@example.com\n"
          "Subject: lunch?\nMessage-ID: <lunch@example.org>\n\nAre you free today?\n", crlf=False)
    write("mbox_from_line.eml", "From noreply@example.net Wed Nov 15 00:00:00 2023\n"
          + headers("Report mbox", "application/gzip; name=\"mbox.xml.gz\"",
                    extra="Content-Transfer-Encoding: base64\n")
          + "\n" + b64(gz_payload) + "\n", crlf=False)

    # Forensic (ARF) report: text, base64 feedback-report, message/rfc822.
    feedback = ("Feedback-Type: auth-failure\nVersion: 1\nUser-Agent: fixture/1.0\n"
                "Auth-Failure: dmarc\nReported-Domain: example.com\n"
                "Source-IP: 192.0.2.1\n").replace("\n", "\r\n").encode()
    original = ("From: someone@example.com\nTo: victim@example.org\nSubject: original\n"
                "Message-ID: <original@example.com>\n\nhello\n")
    write("forensic_arf.eml", headers("Report forensic",
                                      'multipart/report; report-type=feedback-report; boundary="arf"')
          + "\n--arf\nContent-Type: text/plain\n\nThis is an authentication failure report.\n"
          + "--arf\nContent-Type: message/feedback-report\nContent-Transfer-Encoding: base64\n\n"
          + b64(feedback) + "\n"
          + "--arf\nContent-Type: text/rfc822-headers\n\nFrom: someone@example.com\nSubject: original\n\n"
          + "--arf\nContent-Type: message/rfc822\n\n" + original
          + "--arf--\n", crlf=True)


if __name__ == "__main__":
    main()
