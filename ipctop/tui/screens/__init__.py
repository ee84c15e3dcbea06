"""The monitor's screens: main (panes), detail, help, sort chooser (the confirmation is ipctop.tui.forms.confirm)."""
