"""Reading the CERT mailbox over IMAP (kernel transport; written by a helper of issue 21)."""
