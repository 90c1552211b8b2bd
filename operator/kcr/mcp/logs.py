"""JSON log lines on stderr (stdout belongs to the stdio transport)."""

import logging
import sys

import structlog


def configure_logging(level: str = "INFO") -> None:
    formatter = structlog.stdlib.ProcessorFormatter(
        processor=structlog.processors.JSONRenderer(),
        foreign_pre_chain=[
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.stdlib.ExtraAdder(),
            structlog.processors.format_exc_info,  # the traceback as text, not a repr
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpx2", "mcp.server.streamable_http_manager"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    # The Kubernetes client's retry warnings repeat what kcr's own error line says.
    logging.getLogger("urllib3").setLevel(max(logging.ERROR, root.level))
