"""The monitor's screens: main (panes), detail, help, confirm, sort chooser."""
