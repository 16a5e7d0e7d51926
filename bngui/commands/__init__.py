"""The command-line subcommands (no Qt): train, bench, classify."""
