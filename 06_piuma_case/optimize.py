"""The image cron job's command line: `python optimize.py SRC DST [options]`.

A thin wrapper around piuma.cli (also installed by pip as `piuma-optimize`);
`python optimize.py --help` lists the options.
"""

from piuma.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
