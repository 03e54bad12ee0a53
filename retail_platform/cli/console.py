"""The console logger of ``retail-platform run``: Dagster's progress lines, with each multi-line message (a
failed step's error and its stack traces) cut to its first lines (issue 13, defect 14: a warehouse that went
away printed some 400 lines of traces). The whole error stays in the run's event log, in the Dagster UI;
``retail-platform run --verbose`` prints it too."""

from __future__ import annotations

import logging
import sys

import dagster as dg

FORMAT = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"
ERROR_LINE_CHARS = 300
_CAUSED_BY = "The above exception was caused by the following exception"  # Dagster's chained errors


class CompactFormatter(logging.Formatter):
    """A record on one line, plus one line of what follows: the root cause's type and message when Dagster
    chained errors (a failed step: Dagster's wrapper, then what went wrong), else the next line."""

    def formatException(self, ei) -> str:
        _, error, _ = ei
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        return f"{type(error).__name__}: {first}"

    def formatStack(self, stack_info: str) -> str:
        return ""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        lines = [line for line in text.splitlines() if line.strip()]
        if len(lines) <= 2:
            return text
        causes = [n for n, line in enumerate(lines) if line.strip().startswith(_CAUSED_BY)]
        detail = lines[causes[-1] + 1 if causes and causes[-1] + 1 < len(lines) else 1].strip()
        detail = detail if len(detail) <= ERROR_LINE_CHARS else detail[: ERROR_LINE_CHARS - 1] + "…"
        return f"{lines[0]}\n    {detail}\n    ({len(lines) - 2} more lines in the run's log: retail-platform ui)"


def install_console_logging(verbose: bool) -> None:
    """Python's own log records (the platform's modules, psycopg) on stderr the same way: warnings and
    errors, each with the first line of its exception unless ``verbose``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT) if verbose else CompactFormatter(FORMAT))
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.WARNING:
        root.setLevel(logging.WARNING)


_SKIPPED = "were not executed:"


class _NoSkippedSteps(logging.Filter):
    """Drops Dagster's line for each step skipped after a failure (the summary counts them)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return _SKIPPED not in record.getMessage()


@dg.logger(
    config_schema={
        "log_level": dg.Field(str, is_required=False, default_value="INFO"),
        "verbose": dg.Field(bool, is_required=False, default_value=False),
    },
    description="Dagster's console logger, each multi-line message cut to its first lines unless verbose.",
)
def compact_console_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    config = init_context.logger_config
    logger = logging.Logger("dagster", level=config["log_level"].upper())
    handler = logging.StreamHandler(sys.stderr)
    if config["verbose"]:
        handler.setFormatter(logging.Formatter(FORMAT))
    else:
        handler.setFormatter(CompactFormatter(FORMAT))
        handler.addFilter(_NoSkippedSteps())
    logger.addHandler(handler)
    return logger
