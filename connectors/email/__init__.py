"""The email channel: outbound SMTP now; IMAP and inbound SMTP come with the email issue."""
