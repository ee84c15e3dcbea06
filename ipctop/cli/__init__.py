"""The command line: `ipctop` (the monitor) and its scripting subcommands."""
