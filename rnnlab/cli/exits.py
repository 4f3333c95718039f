"""The exit statuses of `rnnlab`, as a shell sees them."""

EXIT_ERROR = 2          # the user's mistake (RnnlabError), as for a bad option
EXIT_RUN_FAILED = 1     # the run failed or diverged
EXIT_INTERRUPTED = 130  # Ctrl-C
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: the reader of our output went away
