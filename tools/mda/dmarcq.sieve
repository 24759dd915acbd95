require ["vnd.dovecot.pipe", "fileinto", "mailbox"];
# DMARC reports: hand each one to dmarcq, then file it away.
if anyof (header :contains "subject" ["Report Domain:", "DMARC Aggregate Report"],
          header :contains "content-type" "report-type=feedback-report") {
  pipe "dmarcq-ingest";
  fileinto :create "DMARC";
  stop;
}
