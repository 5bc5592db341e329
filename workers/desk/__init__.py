"""What people trigger: reply, note, status, assign/transfer/claim, agents, notices;
one entry point each, called alike from the CLI, chat buttons and the staff API."""
