"""Structured JSON logs: one line per event, with tenant, bot and correlation ids, secrets removed.

structlog renders both its own events and every stdlib record (Django, Celery, pybit) through the
same processor chain, so nothing reaches a handler without passing the redactor. Context such as
``tenant_id``, ``bot_id`` and ``correlation_id`` is bound with ``structlog.contextvars`` by the
request middleware and by the Celery signal handlers, and merged into every line.
"""

from __future__ import annotations

from typing import Any

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from tradingsvc.lib.redaction import redact

CONTEXT_FIELDS = ("correlation_id", "tenant_id", "bot_id", "task_id", "task_name")


def redact_event(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor: mask secrets in every field, including the rendered traceback.

    Celery's worker logs each task's raw positional arguments (``data.args``) as a repr, where a
    secret has no key name to be recognised by. They are dropped: ``ops.TaskRun`` keeps the
    arguments, redacted by parameter name.
    """
    data = event_dict.get("data")
    if isinstance(data, dict) and ("args" in data or "kwargs" in data):
        event_dict["data"] = {
            **data,
            **{k: "[omitted: see the TaskRun record]" for k in ("args", "kwargs") if k in data},
        }
    return redact(event_dict)  # type: ignore[no-any-return]


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
    ]


def configure_structlog(*, json: bool) -> None:
    """Configure structlog loggers to hand their events to the stdlib handlers below."""
    structlog.configure(
        processors=[
            *_shared_processors(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def _renderer(json: bool) -> Processor:
    if json:
        return structlog.processors.JSONRenderer(default=str)
    return structlog.dev.ConsoleRenderer(colors=False)


def build_logging_config(*, level: str, json: bool) -> dict[str, Any]:
    """The ``LOGGING`` dict: one stream handler on stderr, every record rendered by structlog."""
    formatter = {
        "()": structlog.stdlib.ProcessorFormatter,
        "foreign_pre_chain": _shared_processors(),
        "processors": [
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact_event,
            _renderer(json),
        ],
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"structured": formatter},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "structured"},
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "INFO"},
            # pybit logs full request headers (API key, signature) at DEBUG: never let it.
            "pybit": {"level": "WARNING"},
            "celery": {"level": "INFO"},
        },
    }


def get_logger(name: str) -> Any:
    """A structlog logger; kwargs passed to its methods become JSON fields."""
    return structlog.stdlib.get_logger(name)


__all__ = ["CONTEXT_FIELDS", "build_logging_config", "configure_structlog", "get_logger"]
