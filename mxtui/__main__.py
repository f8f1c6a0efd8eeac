from mxtui.cli import main

raise SystemExit(main())
