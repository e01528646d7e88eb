from django_tasks import task

RAN: list[str] = []


@task()
def noop() -> None:
    RAN.append("noop")


@task()
def hold(marker: str) -> str:
    """Runs for ever the first time (until its worker is killed); done at once the next time."""
    import time
    from pathlib import Path

    if Path(marker).exists():
        return "done"
    Path(marker).write_text("started")
    time.sleep(600)
    return "slept"
