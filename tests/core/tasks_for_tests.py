from django_tasks import task

RAN: list[str] = []


@task()
def noop() -> None:
    RAN.append("noop")
