"""Distribution: lists, TLP-gated recipients, the e-mails of a publication and their delivery."""
