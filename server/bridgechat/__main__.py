from bridgechat.cli import main

raise SystemExit(main())
