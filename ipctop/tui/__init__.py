"""The live monitor: a Textual app over the snapshot, diff and timeline.

app.py wires the parts: screens/ (main, detail, help, confirm, sort chooser),
panes/ (one per object type), widgets/ (summary line, keyed table, filter bar),
registry.py with handlers/ (every action: keys, Footer, help, command palette).
The app depends on those parts; they reach the app and the main screen only
through the Protocols of interfaces.py (a test keeps ipctop free of import cycles).
"""
