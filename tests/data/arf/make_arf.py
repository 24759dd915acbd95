#!/usr/bin/env python3
"""Writes the failure-report fixtures of tests/unit/test_arf.cpp.

Every message is composed for dmarcq (documentation addresses and domains
only); none is copied from the shared corpus. Run from this directory:
    python3 make_arf.py
The files are generated rather than hand-edited because some deviations
(space-only lines, CRLF, base64 parts) do not survive editors.
"""
import base64
import textwrap


def write(name, text, crlf=False):
    data = text.replace("\n", "\r\n") if crlf else text
    with open(name, "w", newline="", encoding="utf-8") as out:
        out.write(data)


# 1. RFC 6591 / RFC 9991 auth-failure report with every feedback field.
CANON_BODY = base64.b64encode(b"Hello,\r\nthis body was changed in transit.\r\n").decode()
CANON_HEADER = base64.b64encode(b"from:Billing <billing@example.org>\r\nsubject:Invoice\r\n").decode()
FULL = f"""\
From: DMARC Reporter <dmarc-reports@receiver.example.net>
To: ruf@example.org
Subject: =?UTF-8?Q?Failure_report_for_example.org_=E2=80=93_192.0.2.25?=
Date: Tue, 3 Nov 2026 09:15:00 +0100
Message-ID: <ruf-0001@receiver.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report;
\tboundary="==arf-full=="

--==arf-full==
Content-Type: text/plain; charset=us-ascii

This is an authentication failure report for a message that claimed
to be from example.org, received from IP 192.0.2.25.

--==arf-full==
Content-Type: message/feedback-report

Feedback-Type: auth-failure
User-Agent: ExampleReporter/2.1
Version: 1
Original-Envelope-Id: 4XyZ1a2b3C
Original-Mail-From: <bounce@mail.example.org>
Original-Rcpt-To: <alice@receiver.example.net>
Original-Rcpt-To: <bob@receiver.example.net>
Arrival-Date: Tue, 03 Nov 2026 08:14:59 +0000
Reporting-MTA: dns; mx1.receiver.example.net
Source-IP: 192.0.2.25 (mail.example.org)
Source-Port: 49152
Incidents: 3
Authentication-Results: mx1.receiver.example.net;
    dkim=fail (signature) header.d=example.org header.s=sel2026;
    spf=fail smtp.mailfrom=mail.example.org;
    dmarc=fail header.from=example.org
Reported-Domain: example.org
Reported-Domain: mail.example.org
Reported-URI: https://example.org/invoice
Delivery-Result: reject
Auth-Failure: signature
Auth-Failure: dmarc
DKIM-Domain: example.org
DKIM-Domain: esp.example.com
DKIM-Identity: @example.org
DKIM-Selector: sel2026
DKIM-Selector-DNS: v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC
DKIM-Canonicalized-Header: {CANON_HEADER[:24]}
    {CANON_HEADER[24:]}
DKIM-Canonicalized-Body: {CANON_BODY[:20]}
\t{CANON_BODY[20:]}
SPF-DNS: txt : mail.example.org : "v=spf1 ip4:198.51.100.0/24 -all"
Identity-Alignment: none
X-Receiver-Ticket: 12345
X-Receiver-Note: first line
  second line

--==arf-full==
Content-Type: message/rfc822

Received: from mail.example.org (mail.example.org [192.0.2.25])
\tby mx1.receiver.example.net with ESMTP id 4XyZ1a2b3C;
\tTue, 03 Nov 2026 08:14:59 +0000
Authentication-Results: mx1.receiver.example.net; dkim=fail header.d=example.org
DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;
\td=example.org; s=sel2026;
\th=From:To:Subject:Date; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;
\tb=dGVzdA==
DKIM-Signature: v=1; a=rsa-sha256; d=esp.example.com; s=es1; h=From; bh=x; b=y
From: =?UTF-8?B?QmlsbGluZyDDnGJlcnNpY2h0?= <billing@example.org>
To: alice@receiver.example.net
Subject: =?ISO-8859-1?Q?Rechnung_f=FCr_November?=
 (second part)
Date: Tue, 3 Nov 2026 09:14:58 +0100
Message-ID: <invoice-77@mail.example.org>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Please pay the attached invoice.
"""
write("rfc6591_full.eml", FULL)

# 2. Sent as multipart/mixed, feedback part base64 (as NetEase sends it),
#    original as text/rfc822-headers; Identity-Alignment as "spf,dkim".
FEEDBACK_B64 = """\
Feedback-Type: auth-failure
User-Agent: ExampleMixed/1.0
Version: 1
Original-Mail-From: <news@example.org>
Arrival-Date: Sat, 7 Nov 2026 16:48:42 +0800
Source-IP: 2001:DB8:0:0::25
Reported-Domain: example.org
Authentication-Results: receiver.example.net; dkim=pass header.d=esp.example.com;
 spf=pass smtp.mailfrom=news@example.org
DKIM-Domain: esp.example.com; example.org
Delivery-Result: delivered
Identity-Alignment: spf,dkim
"""
encoded = "\n".join(textwrap.wrap(base64.b64encode(FEEDBACK_B64.encode()).decode(), 76))
MIXED = f"""\
From: <abuse@receiver.example.net>
To: ruf@example.org
Subject: [Receiver DMARC Failure Report] Newsletter
Date: Sat, 7 Nov 2026 16:50:00 +0800
Message-ID: <mixed-0002@receiver.example.net>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="----=_mixed"

------=_mixed
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 7bit

A message failing DMARC was received from 2001:db8::25.

------=_mixed
Content-Type: message/feedback-report; name="ATT00001"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="ATT00001"

{encoded}

------=_mixed
Content-Type: text/rfc822-headers
Content-Transfer-Encoding: 7bit

Date: Sat, 7 Nov 2026 08:48:40 GMT
From: "Example News" <news@example.org>
To: <carol@receiver.example.net>
Subject: Weekly news
Message-ID: <news-2026-45@example.org>
DKIM-Signature: v=1; a=rsa-sha256; d=esp.example.com; s=mkt;
 h=from:to:subject; bh=abc=; b=def=

------=_mixed--
"""
write("mixed_base64.eml", MIXED, crlf=True)

# 3. Relayed through IBM Domino: every blank line is a single space, CRLF.
DOMINO = """\
Received: from relay.example.org ([198.51.100.7])
          by notes.example.org (IBM Domino Release 9.0.1FP10)
          with ESMTP id 2026110311202767-1234 ;
          Tue, 3 Nov 2026 11:20:27 +0100
Subject: DMARC Failure Report for example.org (mail-from=portal@example.org, ip=192.0.2.77)
To: dmarc-report@example.org
From: dmarc-report@example.org
X-Notes-Item: Memo;
 name=Form
Date: Tue, 3 Nov 2026 11:20:27 +0100
Message-ID: <OF0000000A.0000000B-ONC1250000.00000000@example.org>
Content-Type: multipart/report; report-type=feedback-report;
    boundary="_----domino-test===_1"
 
--_----domino-test===_1
Content-Transfer-Encoding: 7bit
Content-Type: text/plain; charset="US-ASCII"
 
This is an email abuse report for an email message received from IP 192.0.2.77.
 
--_----domino-test===_1
Content-Type: message/feedback-report; name=report
 
Feedback-Type: auth-failure
User-Agent: Lua/1.0
Version: 1.0
Original-Mail-From: portal@example.org
Original-Rcpt-To: dave@example.org
Arrival-Date: Tue, 03 Nov 2026 11:20:27 +0100
Authentication-Results: dmarc=fail (p=none, dis=none) header.from=example.org
Source-IP: 192.0.2.77
Delivery-Result: smg-policy-action
Auth-Failure: dmarc
Reported-Domain: example.org
 
--_----domino-test===_1
Content-Type: message/rfc822
Content-Disposition: inline
 
Received: from intranet.example.org (intranet.example.org [192.0.2.77])
    by relay.example.org with SMTP id 11.22.33.44; Tue,  3 Nov 2026 11:20:27 +0100
Date: 03 Nov 2026 11:20:27 +0100
Message-ID: <11.22.33.44@relay.example.org>
To: <dave@example.org>
from: "=?utf-8?B?UG9ydGFsIMOcYmVyc2ljaHQ=?=" <portal@example.org>
Subject: Portal notice
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
 
Your portal task list has changed.
 
--_----domino-test===_1--
"""
write("domino_spaces.eml", DOMINO, crlf=True)

# 4. No machine-readable part: plain-text report with a copy of the headers.
TEXT_ONLY = """\
From: no-reply@gate.example.net
To: dmarc@example.org
Subject: DMARC Forensic Report for example.org from IP 198.51.100.68
Date: Mon, 09 Nov 2026 23:16:09 +0200
Message-Id: <E1textonly-0004@gate.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; boundary="===text-only=="

--===text-only==
Content-Type: text/plain; charset="us-ascii"
Content-Transfer-Encoding: 7bit

A message claiming to be from you has failed the published DMARC policy for your domain.

  Sender Domain: example.org
  Sender IP Address: 198.51.100.68
  Received date: Mon, 09 Nov 2026 23:16:09 +0200
  SPF Alignment: no
  DKIM Alignment: no
  DMARC Results: None, Accept

------ This is a copy of the headers that were received before the error was detected.

Received: from [198.51.100.68] (helo=client.example)
\tby gate.example.net with esmtp
\tid 1textonly-0004
\tfor eve@example.org; Mon, 09 Nov 2026 23:16:08 +0200
From: <ceo@example.org>
Date: Mon, 9 Nov 2026 15:10:06 -0600
Subject: Urgent payment
Message-Id: <FAKE-0004@example.org>
To: <eve@example.org>
Authentication-Results: gate.example.net;
\tspf=softfail smtp.mailfrom=example.org;
\tdmarc=fail header.from=example.org

--===text-only==--
"""
write("no_arf_part.eml", TEXT_ONLY)

# 5. RFC 5965 abuse report (not DMARC), original as message/rfc822-headers.
ABUSE = """\
From: <abuse-desk@receiver.example.net>
To: <abuse@example.com>
Subject: FW: Cheap watches
Date: Wed, 11 Nov 2026 10:00:00 EST
Message-ID: <abuse-0005@receiver.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="part1_abuse"

--part1_abuse
Content-Type: text/plain; charset="US-ASCII"

This is an email abuse report for an email message received from IP
198.51.100.9 on Wed, 11 Nov 2026 09:58:12 EST.

--part1_abuse
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: AbuseDesk/3.0
Version: 1
Original-Mail-From: <spammer@example.com>
Original-Rcpt-To: <frank@receiver.example.net>
Received-Date: Wed, 11 Nov 2026 09:58:12 EST
Source-IP: [198.51.100.9]
Reported-URI: http://example.com/watches
Reported-URI: mailto:sales@example.com
Removal-Recipient: frank@receiver.example.net
--part1_abuse
Content-Type: message/rfc822-headers

From: <spammer@example.com>
To: <frank@receiver.example.net>
Subject: Cheap watches
Date: Wed, 11 Nov 2026 09:58:00 -0500
Message-ID: <spam-1@example.com>

--part1_abuse--
"""
write("abuse_rfc5965.eml", ABUSE)

# 6. An aggregate report email: not a failure report.
AGGREGATE = """\
From: noreply-dmarc@receiver.example.net
To: rua@example.org
Subject: Report domain: example.org Submitter: receiver.example.net Report-ID: <123>
Date: Thu, 12 Nov 2026 00:00:00 +0000
Message-ID: <agg-0006@receiver.example.net>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="agg"

--agg
Content-Type: text/plain

DMARC aggregate report, see attachment. No failure here.

--agg
Content-Type: application/gzip; name="receiver.example.net!example.org!1!2.xml.gz"
Content-Transfer-Encoding: base64

H4sIAAAAAAAAA8tIzcnJBwCGphA2BQAAAA==
--agg--
"""
write("aggregate_not_failure.eml", AGGREGATE)
