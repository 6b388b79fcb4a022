from hoist.cli.main import main

raise SystemExit(main())
