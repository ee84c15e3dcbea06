"""What a user can do to IPC objects, without any user interface.

`validators` turns text from a command line or a form into typed values (or one
ValidationError sentence), `requests` holds the typed requests the TUI forms
produce, `operations` carries them out through ipctop.kernel.sysv, and
`holdings` keeps the segments ipctop itself attaches.  Nothing here imports
textual, so the CLI stays fast and the layer is testable on its own.
"""
