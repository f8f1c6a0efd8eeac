from mxtui.cli import entry

entry()
