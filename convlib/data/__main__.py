"""``python -m convlib.data fetch mnist --dir data/mnist``: download a full data set, verified."""
from ..download import main

raise SystemExit(main())
