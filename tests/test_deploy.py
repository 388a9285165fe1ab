"""Deployment files as a source: parsing each kind of file, then CEL401–CEL405 on both sides.

Each project is written from strings (dedented, leading newline dropped, so the first line is row
1) beside helpers.CELERY_APP; a flagged shape sits next to its near miss. Parsing tests read one
file with `read_deploy_facts`, or a whole project when files build on each other (extends,
overrides, a Dockerfile's COPY).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from helpers import CELERY_APP, lint, run_project, write_project

from celery_lint.config import Config
from celery_lint.facts.deploy import Process, invocations, is_dev_path, read_deploy_facts
from celery_lint.facts.types import DeployFacts
from celery_lint.rules.settings import Row, audits, monitor, single_beat, worker_restarts
from celery_lint.runner import load_project

DEPLOY_CODES = ("CEL401", "CEL402", "CEL403", "CEL404", "CEL405")
SETTINGS = "proj/settings.py"
BROKER = 'CELERY_BROKER_URL = "redis://localhost:6379/0"\n'

# A task routed to the `emails` queue by its decorator and to `reports` by a call.
ROUTED_TASKS = """
    from celery import shared_task


    @shared_task(queue="emails")
    def send_invoice(order_id):
        return order_id


    def close(order_id):
        send_invoice.apply_async((order_id,), queue="reports")
"""

# A task sent to Celery's default queue by name.
DEFAULT_QUEUE_TASK = """
    from celery import shared_task


    @shared_task(queue="celery")
    def send_invoice(order_id):
        return order_id
"""


def read(kind: str, text: str, path: str = "deploy/file") -> DeployFacts:
    return read_deploy_facts(path, kind, textwrap.dedent(text).lstrip("\n"))


def commands(facts: DeployFacts) -> list[tuple[str, str, int]]:
    """(process name, celery subcommand, row) of every invocation of a file."""
    return [(p.name, i.command, i.line) for p in facts.processes for i in p.invocations]


def parsed(command: str) -> tuple[object, ...]:
    """(subcommand, app, queues, -B, -E, dynamic) of the one invocation in a command line."""
    [found], _ = invocations(command, 1, 1)
    return (found.command, found.app, found.queues, found.embedded_beat, found.events,
            found.dynamic)


def project_processes(root: Path, files: dict[str, str]) -> dict[str, list[Process]]:
    """The processes of each deployment of CELERY_APP plus `files`, by deployment name."""
    write_project(root, {**CELERY_APP, **files})
    index = load_project([root], Config(root=root)).index
    return {d.name: d.processes for d in index.deployments}


def shown(root: Path, processes: list[Process]) -> list[tuple[str, str, str, int]]:
    """(kind, definition name, path of the command line, row) of processes."""
    return [(p.kind, p.definition.name, Path(p.path).relative_to(root).as_posix(), p.line)
            for p in processes]


def check(root: Path, files: dict[str, str], *codes: str, **config: object
          ) -> list[tuple[str, str, int]]:
    """(code, path, row) of the rules `codes` over CELERY_APP plus `files`."""
    return lint(root, {**CELERY_APP, **files}, select=codes, **config)


def messages(root: Path, files: dict[str, str], *codes: str) -> list[str]:
    result = run_project(root, {**CELERY_APP, **files}, codes)
    assert not result.internal_errors, result.warnings
    return [d.message for d in result.diagnostics]


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp_path as the working directory, so paths in messages and warnings are relative."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


# -- Procfile -----------------------------------------------------------------------------------

PROCFILE = """
    # Heroku process types
    web: gunicorn proj.wsgi --log-file -
    worker: celery -A proj worker -Q default,emails --concurrency=2
    beat: celery -A proj beat -l info
    #worker2: celery -A proj worker -B
    release: python manage.py migrate
"""


def test_procfile_process_types_and_comments() -> None:
    facts = read("procfile", PROCFILE, "Procfile")
    assert commands(facts) == [("worker", "worker", 3), ("beat", "beat", 4)]


def test_procfile_command_column_and_queues() -> None:
    [worker, _] = read("procfile", PROCFILE, "Procfile").processes
    [invocation] = worker.invocations
    assert (invocation.column, invocation.queues) == (9, ("default", "emails"))


def test_procfile_processes_restart() -> None:
    facts = read("procfile", PROCFILE, "Procfile")
    assert [(p.restarts, p.replicas) for p in facts.processes] == [(True, None), (True, None)]


def test_procfile_without_celery_defines_no_process() -> None:
    assert read("procfile", "web: gunicorn proj.wsgi\n", "Procfile").processes == ()


# -- docker compose -----------------------------------------------------------------------------

def test_compose_string_and_list_command() -> None:
    facts = read("compose", """
        services:
          worker:
            image: app
            command: celery -A proj worker -Q emails
          beat:
            image: app
            command: ["celery", "-A", "proj", "beat"]
    """, "docker-compose.yml")
    assert commands(facts) == [("worker", "worker", 4), ("beat", "beat", 7)]
    assert facts.processes[0].invocations[0].queues == ("emails",)


def test_compose_block_list_command() -> None:
    facts = read("compose", """
        services:
          worker:
            command:
              - celery
              - -A
              - proj
              - worker
              - -B
    """, "docker-compose.yml")
    assert commands(facts) == [("worker", "worker", 4)]
    assert facts.processes[0].invocations[0].embedded_beat is True


def test_compose_folded_command_sits_at_its_first_line() -> None:
    facts = read("compose", """
        services:
          worker:
            command: >
              celery -A proj worker
              -Q emails
    """, "docker-compose.yml")
    assert commands(facts) == [("worker", "worker", 4)]
    assert facts.processes[0].invocations[0].queues == ("emails",)


def test_compose_entrypoint_alone() -> None:
    facts = read("compose", """
        services:
          flower:
            entrypoint: celery -A proj flower --port=5555
    """, "docker-compose.yml")
    assert commands(facts) == [("flower", "flower", 3)]


def test_compose_entrypoint_script_and_celery_command() -> None:
    facts = read("compose", """
        services:
          worker:
            entrypoint: /entrypoint.sh
            command: celery -A proj worker
    """, "docker-compose.yml")
    [worker] = facts.processes
    assert commands(facts) == [("worker", "worker", 4)]
    # entrypoint and command are one command line, placed where the command is
    assert worker.scripts == (("/entrypoint.sh", 4, 14),)


def test_compose_entrypoint_list_and_command_list_are_one_command_line() -> None:
    facts = read("compose", """
        services:
          worker:
            entrypoint: ["celery", "-A", "proj"]
            command: ["worker", "-Q", "emails"]
    """, "docker-compose.yml")
    [worker] = facts.processes
    assert [(i.command, i.queues) for i in worker.invocations] == [("worker", ("emails",))]


def test_compose_sh_c_with_two_invocations() -> None:
    facts = read("compose", """
        services:
          all:
            command: sh -c "celery -A proj worker -Q emails & celery -A proj beat"
    """, "docker-compose.yml")
    [service] = facts.processes
    assert [(i.command, i.queues, i.line) for i in service.invocations] == [
        ("worker", ("emails",), 3), ("beat", None, 3)]


def test_compose_sh_c_in_a_list_command() -> None:
    facts = read("compose", """
        services:
          all:
            command: ["bash", "-c", "python manage.py migrate && celery -A proj worker -B"]
    """, "docker-compose.yml")
    [service] = facts.processes
    assert [(i.command, i.embedded_beat) for i in service.invocations] == [("worker", True)]


def test_compose_deploy_replicas() -> None:
    facts = read("compose", """
        services:
          worker:
            command: celery -A proj worker
            deploy:
              replicas: 3
    """, "docker-compose.yml")
    assert [(p.name, p.replicas) for p in facts.processes] == [("worker", 3)]


def test_compose_scale() -> None:
    facts = read("compose", """
        services:
          worker:
            command: celery -A proj worker
            scale: 2
    """, "docker-compose.yml")
    assert [(p.name, p.replicas) for p in facts.processes] == [("worker", 2)]


def test_compose_replicas_from_a_variable_are_not_a_number() -> None:
    facts = read("compose", """
        services:
          worker:
            command: celery -A proj worker
            deploy:
              replicas: ${WORKERS}
    """, "docker-compose.yml")
    assert [(p.replicas, p.replicas_text) for p in facts.processes] == [(None, "${WORKERS}")]


@pytest.mark.parametrize("written", ['"no"', "no", "'no'"])
def test_compose_restart_no_quoted_or_a_yaml_boolean(written: str) -> None:
    facts = read("compose", f"""
        services:
          worker:
            command: celery -A proj worker
            restart: {written}
    """, "docker-compose.yml")
    assert [(p.restarts, p.restart_text) for p in facts.processes] == [(False, "restart: no")]


def test_compose_restart_unless_stopped() -> None:
    facts = read("compose", """
        services:
          worker:
            command: celery -A proj worker
            restart: unless-stopped
    """, "docker-compose.yml")
    assert [(p.restarts, p.restart_text) for p in facts.processes] == [
        (True, "restart: unless-stopped")]


def test_compose_without_restart() -> None:
    facts = read("compose", """
        services:
          worker:
            command: celery -A proj worker
    """, "docker-compose.yml")
    assert [(p.restarts, p.restart_text) for p in facts.processes] == [
        (False, "no `restart:` policy")]


def test_compose_deploy_restart_policy() -> None:
    facts = read("compose", """
        services:
          worker:
            command: celery -A proj worker
            deploy:
              restart_policy:
                condition: on-failure
          once:
            command: celery -A proj worker
            deploy:
              restart_policy:
                condition: none
          default:
            command: celery -A proj worker
            deploy:
              restart_policy:
                max_attempts: 3
    """, "docker-compose.yml")
    assert [(p.name, p.restarts, p.restart_text) for p in facts.processes] == [
        ("worker", True, "deploy.restart_policy.condition: on-failure"),
        ("once", False, "deploy.restart_policy.condition: none"),
        ("default", True, "deploy.restart_policy.condition: any")]


def test_compose_anchor_merged_with_merge_key() -> None:
    facts = read("compose", """
        x-common: &common
          image: app
          restart: always
          command: celery -A proj worker -B
        services:
          worker:
            <<: *common
          beat:
            <<: *common
            command: celery -A proj beat
            restart: "no"
    """, "docker-compose.yml")
    assert [(p.name, p.restarts, [(i.command, i.line) for i in p.invocations])
            for p in facts.processes] == [
        ("worker", True, [("worker", 4)]), ("beat", False, [("beat", 10)])]


def test_compose_merge_key_with_a_list_of_anchors() -> None:
    facts = read("compose", """
        x-image: &image
          image: app
        x-restart: &restart
          restart: always
        services:
          worker:
            <<: [*image, *restart]
            command: celery -A proj worker
    """, "docker-compose.yml")
    assert [(p.name, p.restarts, p.image) for p in facts.processes] == [("worker", True, "app")]


def test_compose_extends_within_the_file(tmp_path: Path) -> None:
    processes = project_processes(tmp_path, {"docker-compose.yml": """
        services:
          base:
            image: app
            command: celery -A proj worker -Q emails
            restart: always
          emails:
            extends: base
            deploy:
              replicas: 3
    """})
    [base, emails] = processes["docker-compose.yml"]
    assert shown(tmp_path, [base, emails]) == [
        ("worker", "base", "docker-compose.yml", 4), ("worker", "emails", "docker-compose.yml", 4)]
    assert (emails.replicas, emails.restarts, emails.invocation.queues) == (3, True, ("emails",))


def test_compose_extends_from_another_file(tmp_path: Path) -> None:
    processes = project_processes(tmp_path, {
        "common.yml": """
            services:
              base:
                image: app
                command: celery -A proj worker -Q emails
                restart: always
        """,
        "docker-compose.yml": """
            services:
              worker:
                extends:
                  file: common.yml
                  service: base
        """,
    })
    [worker] = processes["docker-compose.yml"]
    assert (worker.kind, worker.definition.name, worker.restarts,
            worker.invocation.queues) == ("worker", "worker", True, ("emails",))


def test_compose_extends_from_another_file_reports_where_the_command_is(tmp_path: Path) -> None:
    found = check(tmp_path, {
        "docker-compose.base.yml": """
            # shared by every compose file
            services:
              base:
                image: app
                restart: always
                command: celery -A proj worker
        """,
        "docker-compose.yml": """
            services:
              worker:
                extends: {file: docker-compose.base.yml, service: base}
                restart: "no"
        """,
    }, "CEL404")
    assert found == [("CEL404", "docker-compose.base.yml", 6)]


def test_compose_override_adds_a_restart_policy(tmp_path: Path) -> None:
    files = {
        "docker-compose.yml": """
            services:
              worker:
                image: app
                command: celery -A proj worker
        """,
        "docker-compose.override.yml": """
            services:
              worker:
                restart: always
        """,
    }
    processes = project_processes(tmp_path, files)
    assert list(processes) == ["docker-compose.yml"]
    [worker] = processes["docker-compose.yml"]
    assert (worker.restarts, worker.restart_text) == (True, "restart: always")


def test_compose_override_replaces_the_command(tmp_path: Path) -> None:
    processes = project_processes(tmp_path, {
        "docker-compose.yml": """
            services:
              worker:
                image: app
                command: celery -A proj worker -Q emails
        """,
        "docker-compose.override.yml": """
            services:
              worker:
                command: celery -A proj worker -Q emails,reports
        """,
    })
    [worker] = processes["docker-compose.yml"]
    assert shown(tmp_path, [worker]) == [
        ("worker", "worker", "docker-compose.override.yml", 3)]
    assert worker.invocation.queues == ("emails", "reports")


def test_compose_version_1_format_without_services() -> None:
    facts = read("compose", """
        worker:
          image: app
          command: celery -A proj worker
        flower:
          image: mher/flower:2.0
    """, "docker-compose.yml")
    assert commands(facts) == [("worker", "worker", 3), ("flower", "flower", 4)]


def test_compose_flower_image_is_a_monitor(tmp_path: Path) -> None:
    processes = project_processes(tmp_path, {"docker-compose.yml": """
        services:
          worker:
            command: celery -A proj worker
          flower:
            image: mher/flower
    """})
    assert shown(tmp_path, processes["docker-compose.yml"]) == [
        ("worker", "worker", "docker-compose.yml", 3),
        ("monitor", "flower", "docker-compose.yml", 4)]


def test_compose_service_without_celery_is_no_process(tmp_path: Path) -> None:
    processes = project_processes(tmp_path, {"docker-compose.yml": """
        services:
          web:
            image: app
            command: gunicorn proj.wsgi
          redis:
            image: redis:7
    """})
    assert processes == {}


# -- Kubernetes ---------------------------------------------------------------------------------

KUBERNETES = """
    apiVersion: v1
    kind: Service
    metadata:
      name: web
    spec:
      ports:
        - port: 80
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: worker
    spec:
      replicas: 2
      template:
        spec:
          containers:
            - name: worker
              image: app
              command: ["celery"]
              args: ["-A", "proj", "worker", "-Q", "emails"]
    ---
    apiVersion: apps/v1
    kind: DaemonSet
    metadata:
      name: beat
    spec:
      template:
        spec:
          containers:
            - name: beat
              image: app
              command: ["celery", "-A", "proj", "beat"]
    ---
    apiVersion: batch/v1
    kind: CronJob
    metadata:
      name: purge
    spec:
      schedule: "0 * * * *"
      jobTemplate:
        spec:
          template:
            spec:
              containers:
                - name: purge
                  image: app
                  command: ["celery", "-A", "proj", "purge", "-f"]
"""


def test_kubernetes_multi_document_kinds_and_rows() -> None:
    facts = read("kubernetes", KUBERNETES, "k8s/app.yaml")
    assert commands(facts) == [("Deployment/worker/worker", "worker", 20),
                               ("DaemonSet/beat/beat", "beat", 33),
                               ("CronJob/purge/purge", "purge", 48)]


def test_kubernetes_command_and_args_are_one_command_line() -> None:
    [worker, _, _] = read("kubernetes", KUBERNETES, "k8s/app.yaml").processes
    [invocation] = worker.invocations
    assert (invocation.app, invocation.queues, invocation.column) == ("proj", ("emails",), 20)


def test_kubernetes_replicas_daemonset_and_restarts() -> None:
    facts = read("kubernetes", KUBERNETES, "k8s/app.yaml")
    # the CronJob states no restartPolicy: Kubernetes requires one for jobs, read as OnFailure
    assert [(p.replicas, p.per_node, p.restarts) for p in facts.processes] == [
        (2, False, True), (1, True, True), (1, False, True)]


def test_kubernetes_restart_policy_never() -> None:
    facts = read("kubernetes", """
        kind: Job
        metadata:
          name: drain
        spec:
          template:
            spec:
              restartPolicy: Never
              containers:
                - name: w
                  command: [celery, -A, proj, worker]
    """, "k8s/job.yaml")
    assert [(p.restarts, p.restart_text) for p in facts.processes] == [
        (False, "restartPolicy: Never")]


def test_kubernetes_deployment_without_replicas_runs_one() -> None:
    facts = read("kubernetes", """
        kind: StatefulSet
        metadata:
          name: beat
        spec:
          template:
            spec:
              containers:
                - name: beat
                  args: [celery, -A, proj, beat]
    """, "k8s/beat.yaml")
    assert [(p.name, p.replicas) for p in facts.processes] == [("StatefulSet/beat/beat", 1)]


def test_kubernetes_sh_c_in_command_and_args() -> None:
    facts = read("kubernetes", """
        kind: Deployment
        metadata:
          name: all
        spec:
          template:
            spec:
              containers:
                - name: all
                  command: ["/bin/sh", "-c"]
                  args: ["celery -A proj worker -Q emails & celery -A proj beat"]
    """, "k8s/all.yaml")
    [container] = facts.processes
    assert [(i.command, i.queues) for i in container.invocations] == [
        ("worker", ("emails",)), ("beat", None)]


def test_kubernetes_helm_template_is_skipped_with_a_warning() -> None:
    facts = read("kubernetes", """
        kind: Deployment
        metadata:
          name: beat
        spec:
          replicas: {{ .Values.beatReplicas }}
          template:
            spec:
              containers:
                - name: beat
                  command: ["celery", "-A", "proj", "beat"]
    """, "chart/templates/beat.yaml")
    assert (facts.processes, facts.warnings) == ((), ("a Helm template: skipped",))


def test_kubernetes_helm_template_warning_in_a_project(in_tmp: Path) -> None:
    result = run_project(in_tmp, {**CELERY_APP, "chart/templates/beat.yaml": """
        kind: Deployment
        metadata:
          name: beat
        spec:
          replicas: {{ .Values.beatReplicas }}
          template:
            spec:
              containers:
                - name: beat
                  command: ["celery", "-A", "proj", "beat"]
    """}, DEPLOY_CODES)
    assert result.warnings == ["chart/templates/beat.yaml: a Helm template: skipped"]
    assert result.diagnostics == []


# -- supervisord --------------------------------------------------------------------------------

SUPERVISORD = """
    [program:worker]
    command=celery -A proj worker
        -Q emails,reports
    numprocs=2
    process_name=%(program_name)s_%(process_num)02d

    [program:beat]
    command=celery -A proj beat --pidfile=%(ENV_HOME)s/beat.pid
    autorestart=false

    [program:web]
    command=gunicorn proj.wsgi
"""


def test_supervisord_programs_rows_and_queues() -> None:
    facts = read("supervisord", SUPERVISORD, "deploy/supervisord.conf")
    assert commands(facts) == [("worker", "worker", 2), ("beat", "beat", 8)]
    assert facts.processes[0].invocations[0].queues == ("emails", "reports")


def test_supervisord_numprocs_and_autorestart() -> None:
    facts = read("supervisord", SUPERVISORD, "deploy/supervisord.conf")
    assert [(p.replicas, p.restarts, p.restart_text) for p in facts.processes] == [
        (2, True, "autorestart=unexpected"), (1, False, "autorestart=false")]


def test_supervisord_env_interpolation_in_a_command_does_not_crash() -> None:
    facts = read("supervisord", """
        [program:worker]
        command=%(ENV_VENV)s/bin/celery -A proj worker -Q %(ENV_QUEUES)s
    """, "deploy/supervisord.conf")
    assert (commands(facts), facts.warnings) == ([("worker", "worker", 2)], ())


def test_supervisord_conf_without_programs_is_not_read(tmp_path: Path) -> None:
    processes = project_processes(tmp_path, {"deploy/nginx.conf": "# proxies to celery flower\n"})
    assert processes == {}


# -- systemd ------------------------------------------------------------------------------------

SYSTEMD_WORKER = """
    [Unit]
    Description=Celery worker

    [Service]
    Type=simple
    ExecStart=/opt/venv/bin/celery -A proj worker \\
        -Q emails,reports \\
        --loglevel=info
    Restart=always

    [Install]
    WantedBy=multi-user.target
"""


def test_systemd_exec_start_with_continuation_lines() -> None:
    facts = read("systemd", SYSTEMD_WORKER, "deploy/systemd/celery-worker.service")
    [unit] = facts.processes
    [invocation] = unit.invocations
    assert (unit.name, invocation.command, invocation.queues, invocation.line,
            invocation.column) == ("celery-worker.service", "worker", ("emails", "reports"), 6, 11)


def test_systemd_restart_always() -> None:
    facts = read("systemd", SYSTEMD_WORKER, "deploy/systemd/celery-worker.service")
    assert [(p.restarts, p.restart_text) for p in facts.processes] == [(True, "Restart=always")]


def test_systemd_missing_restart_is_no() -> None:
    facts = read("systemd", """
        [Service]
        ExecStart=/usr/bin/celery -A proj worker
    """, "deploy/celery-worker.service")
    assert [(p.restarts, p.restart_text) for p in facts.processes] == [
        (False, "no Restart= (systemd's default is no)")]


def test_systemd_restart_outside_the_service_section_does_not_count() -> None:
    facts = read("systemd", """
        [Unit]
        Restart=always

        [Service]
        ExecStart=/usr/bin/celery -A proj worker
    """, "deploy/celery-worker.service")
    assert [p.restarts for p in facts.processes] == [False]


def test_systemd_template_unit_and_dash_prefix() -> None:
    facts = read("systemd", """
        [Service]
        ExecStart=-/usr/bin/celery -A proj beat
        Restart=on-failure
    """, "deploy/celery-beat@.service")
    [unit] = facts.processes
    assert (unit.name, unit.template, unit.restarts) == ("celery-beat@.service", True, True)
    assert [(i.command, i.line, i.column) for i in unit.invocations] == [("beat", 2, 12)]


def test_systemd_plain_unit_is_not_a_template() -> None:
    facts = read("systemd", "[Service]\nExecStart=/usr/bin/celery -A proj beat\n",
                 "deploy/celery-beat.service")
    assert [p.template for p in facts.processes] == [False]


# -- Dockerfile and scripts ---------------------------------------------------------------------

def test_dockerfile_exec_and_shell_forms_with_continuations() -> None:
    facts = read("dockerfile", """
        FROM python:3.12
        RUN pip install \\
            celery
        ENTRYPOINT celery -A proj \\
            beat
        CMD ["celery", "-A", "proj", "worker", "-Q", "emails"]
    """, "Dockerfile")
    assert commands(facts) == [("ENTRYPOINT", "beat", 4), ("CMD", "worker", 6)]
    assert facts.processes[1].invocations[0].queues == ("emails",)


def test_dockerfile_copy_mapping() -> None:
    facts = read("dockerfile", """
        FROM python:3.12
        COPY --chown=app ./compose/start-worker /start-worker
        COPY ["a.sh", "b.sh", "/scripts/"]
    """, "Dockerfile")
    assert facts.copies == (("./compose/start-worker", "/start-worker"), ("a.sh", "/scripts/"),
                            ("b.sh", "/scripts/"))


def test_dockerfile_entrypoint_and_cmd_are_one_command_line() -> None:
    facts = read("dockerfile", """
        FROM python:3.12
        ENTRYPOINT ["celery", "-A", "proj"]
        CMD ["worker", "-B"]
    """, "Dockerfile")
    assert [(i.command, i.embedded_beat) for p in facts.processes for i in p.invocations] == [
        ("worker", True)]


def test_shell_script_celery_line_with_continuation_and_comments() -> None:
    facts = read("shell", """
        #!/bin/sh
        set -e
        # celery -A proj beat
        python manage.py migrate
        exec celery -A proj worker \\
          -Q emails
    """, "scripts/start.sh")
    assert commands(facts) == [("start.sh", "worker", 5)]
    assert facts.processes[0].invocations[0].queues == ("emails",)


COPIED_SCRIPT = {
    "Dockerfile": """
        FROM python:3.12
        COPY ./compose/start-worker /start-worker
        CMD ["gunicorn", "proj.wsgi"]
    """,
    "compose/start-worker": """
        #!/bin/sh
        set -e
        exec celery -A proj worker -B
    """,
    "docker-compose.yml": """
        services:
          worker:
            build: .
            command: /start-worker
            restart: always
    """,
}


def test_script_copied_by_the_dockerfile_is_a_process_of_the_compose_file(tmp_path: Path) -> None:
    processes = project_processes(tmp_path, COPIED_SCRIPT)
    assert list(processes) == ["docker-compose.yml"]
    [worker] = processes["docker-compose.yml"]
    assert shown(tmp_path, [worker]) == [("worker", "worker", "compose/start-worker", 3)]
    assert (worker.restarts, Path(worker.defined_in).name) == (True, "docker-compose.yml")


def test_diagnostic_of_a_copied_script_sits_in_the_script(tmp_path: Path) -> None:
    assert check(tmp_path, COPIED_SCRIPT, "CEL401") == [("CEL401", "compose/start-worker", 3)]


def test_script_run_by_a_relative_path(tmp_path: Path) -> None:
    assert check(tmp_path, {
        "scripts/worker.sh": "#!/bin/sh\ncelery -A proj worker -B\n",
        "docker-compose.yml": """
            services:
              worker:
                command: ["sh", "./scripts/worker.sh"]
                restart: always
        """,
    }, "CEL401") == [("CEL401", "scripts/worker.sh", 2)]


def test_script_no_deployment_runs_is_a_process_of_its_own(tmp_path: Path) -> None:
    # what runs it (a compose file in another repository, a platform's settings) is not here
    assert check(tmp_path, {"scripts/worker.sh": "#!/bin/sh\ncelery -A proj worker -B\n"},
                 "CEL401") == [("CEL401", "scripts/worker.sh", 2)]


@pytest.mark.parametrize("path", ["scripts/dev/worker.sh", "scripts/worker-local.sh",
                                  "tests/run_worker.sh", "bin/dev_celery.sh"])
def test_development_script_no_deployment_runs_is_not_a_process(tmp_path: Path,
                                                                path: str) -> None:
    assert check(tmp_path, {path: "#!/bin/sh\ncelery -A proj worker -B\n"}, "CEL401") == []


def test_script_run_by_a_development_compose_file_is_not_production(tmp_path: Path) -> None:
    assert check(tmp_path, {
        "scripts/worker.sh": "#!/bin/sh\ncelery -A proj worker -B\n",
        "docker-compose.local.yml": """
            services:
              worker:
                command: ["sh", "./scripts/worker.sh"]
        """,
    }, "CEL401") == []


def test_script_without_celery_is_not_a_process(tmp_path: Path) -> None:
    assert check(tmp_path, {"scripts/web.sh": "#!/bin/sh\n# no celery here\ngunicorn proj.wsgi\n"},
                 "CEL401") == []


@pytest.mark.parametrize(("path", "found"), [
    ("docs/docker-compose.yml", []),
    ("examples/docker-compose.yml", []),
    ("proj/examples/start-worker.sh", []),
    ("deploy/docker-compose.yml", [("CEL401", "deploy/docker-compose.yml", 4)]),
])
def test_documentation_and_examples_are_not_deployments(tmp_path: Path, path: str,
                                                        found: list[tuple[str, str, int]]) -> None:
    text = EMBEDDED_COMPOSE if path.endswith(".yml") else "#!/bin/sh\ncelery -A proj worker -B\n"
    assert check(tmp_path, {path: text}, "CEL401") == found


WAITED_SCRIPTS = {
    "Dockerfile": """
        FROM python:3.12
        COPY compose/start-worker.sh compose/start-web.sh /usr/local/bin/
        COPY wait-for-it.sh /wait-for-it.sh
    """,
    "compose/start-worker.sh": """
        #!/bin/sh
        exec celery -A proj worker -B
    """,
    "compose/start-web.sh": """
        #!/bin/sh
        exec gunicorn proj.wsgi  # celery is not started here
    """,
    "wait-for-it.sh": "#!/bin/sh\nexec \"$@\"\n",
}


def test_wait_for_it_runs_a_script_copied_into_a_folder(tmp_path: Path) -> None:
    files = {**WAITED_SCRIPTS, "docker-compose.yml": """
        services:
          worker:
            build: .
            command: /wait-for-it.sh db:5432 -- /usr/local/bin/start-worker.sh
            restart: always
    """}
    processes = project_processes(tmp_path, files)
    [worker] = processes["docker-compose.yml"]
    assert shown(tmp_path, [worker]) == [("worker", "worker", "compose/start-worker.sh", 2)]
    assert check(tmp_path, files, "CEL401") == [("CEL401", "compose/start-worker.sh", 2)]


def test_script_copied_into_a_folder_on_the_path_runs_by_its_name(tmp_path: Path) -> None:
    files = {**WAITED_SCRIPTS, "docker-compose.yml": """
        services:
          worker:
            build: .
            command: ["/wait-for-it.sh", "db:5432", "--", "start-worker.sh"]
            restart: always
    """}
    assert check(tmp_path, files, "CEL401") == [("CEL401", "compose/start-worker.sh", 2)]


def test_wait_for_it_running_another_script_is_not_the_worker(tmp_path: Path) -> None:
    files = {**WAITED_SCRIPTS, "docker-compose.yml": """
        services:
          web:
            build: .
            command: /wait-for-it.sh db:5432 -- /usr/local/bin/start-web.sh
            restart: always
    """}
    # the worker script is run by nothing here: a process of its own, reported once
    assert check(tmp_path, files, "CEL401") == [("CEL401", "compose/start-worker.sh", 2)]
    assert list(project_processes(tmp_path, files)) == ["the shell scripts in compose/"]


def test_entrypoint_given_a_script_in_cmd_runs_it(tmp_path: Path) -> None:
    files = {**WAITED_SCRIPTS, "Dockerfile": """
        FROM python:3.12
        COPY compose/start-worker.sh /start-worker
        ENTRYPOINT ["/wait-for-it.sh", "db:5432", "--", "/entrypoint"]
        CMD ["/start-worker"]
    """, "entrypoint": "#!/bin/sh\nexec \"$@\"\n"}
    processes = project_processes(tmp_path, files)
    assert {name: shown(tmp_path, found) for name, found in processes.items()} == {
        "Dockerfile": [("worker", "ENTRYPOINT + CMD", "compose/start-worker.sh", 2)]}


# -- Celery command lines -----------------------------------------------------------------------

@pytest.mark.parametrize(("command", "expected"), [
    ("celery -A proj worker -Q a,b", ("worker", "proj", ("a", "b"), False, False, False)),
    ("celery -A proj worker --queues=a,b", ("worker", "proj", ("a", "b"), False, False, False)),
    ("celery -A proj worker --queues a,b", ("worker", "proj", ("a", "b"), False, False, False)),
    ("celery -A proj worker -B", ("worker", "proj", None, True, False, False)),
    ("celery -A proj worker --beat", ("worker", "proj", None, True, False, False)),
    ("celery -A proj worker -E", ("worker", "proj", None, False, True, False)),
    ("celery -A proj worker --task-events", ("worker", "proj", None, False, True, False)),
    ("celery -A proj worker -BE", ("worker", "proj", None, True, True, False)),
    ("celery --app=proj worker", ("worker", "proj", None, False, False, False)),
    ("celery --app proj.celery:app worker", ("worker", "proj.celery:app", None, False, False,
                                             False)),
    ("python -m celery -A proj worker", ("worker", "proj", None, False, False, False)),
    ("python3.12 -m celery -A proj beat", ("beat", "proj", None, False, False, False)),
    ("/opt/venv/bin/celery -A proj beat -S django", ("beat", "proj", None, False, False, False)),
    ("FOO=1 BAR=2 celery -A proj worker", ("worker", "proj", None, False, False, False)),
    ("exec celery -A proj worker", ("worker", "proj", None, False, False, False)),
    ("newrelic-admin run-program celery -A proj worker -B",
     ("worker", "proj", None, True, False, False)),
    ("celery -A proj worker --max-memory-per-child=1000 --foo -Q a",
     ("worker", "proj", ("a",), False, False, False)),
    ("celery -A proj worker --foo bar -Q a -Ofair -B", ("worker", "proj", ("a",), True, False,
                                                       False)),
    ("celery -A proj worker -l info -c 4 --autoscale=10,3 -Q a",
     ("worker", "proj", ("a",), False, False, False)),
    ("celery -A proj worker -Q $QUEUES", ("worker", "proj", ("$QUEUES",), False, False, True)),
    ("celery -A proj worker -Q ${QUEUES:-celery}",
     ("worker", "proj", ("${QUEUES:-celery}",), False, False, True)),
    ("celery -A proj flower --port=5555", ("flower", "proj", None, False, False, False)),
    ("celery -A proj events", ("events", "proj", None, False, False, False)),
])
def test_celery_command_line(command: str, expected: tuple[object, ...]) -> None:
    assert parsed(command) == expected


@pytest.mark.parametrize(("command", "found", "scripts"), [
    ("/wait-for-it.sh db:5432 -- /start-worker", [], ["/start-worker"]),
    ("./wait-for-it.sh db:5432 -t 60 -- celery -A proj beat", ["beat"], []),
    ("dockerize -wait tcp://db:5432 -timeout 30s celery -A proj worker", ["worker"], []),
    ("dockerize -wait=tcp://db:5432 -poll celery -A proj worker", ["worker"], []),
    ("gosu app celery -A proj beat", ["beat"], []),
    ("su-exec app:app celery -A proj worker", ["worker"], []),
    ("tini -- celery -A proj worker", ["worker"], []),
    ("tini -s -- gosu app celery -A proj worker", ["worker"], []),
    ("dumb-init celery -A proj worker", ["worker"], []),
    ("exec gosu app /start-beat", [], ["/start-beat"]),
    # near misses: a wrapper that runs something else, a wait that runs nothing after it
    ("/wait-for-it.sh db:5432 -- /start-web", [], ["/start-web"]),
    ("gosu app gunicorn proj.wsgi", [], []),
    ("/wait-for-it.sh db:5432", [], []),
])
def test_wrappers_before_the_command(command: str, found: list[str], scripts: list[str]) -> None:
    invoked, run = invocations(command, 1, 1)
    assert ([i.command for i in invoked], run) == (found, scripts)


@pytest.mark.parametrize(("command", "limits"), [
    ("celery -A proj worker --time-limit=300", ("300", None)),
    ("celery -A proj worker --time-limit 300 --soft-time-limit=240", ("300", "240")),
    ("celery multi start w1 -A proj --time-limit=300", ("300", None)),
    ("celery -A proj worker -l info", (None, None)),
])
def test_worker_time_limits_as_written(command: str, limits: tuple[str | None, ...]) -> None:
    [found], _ = invocations(command, 1, 1)
    assert (found.time_limit, found.soft_time_limit) == limits


def test_celery_exclude_queues() -> None:
    [found], _ = invocations("celery -A proj worker -X slow,bulk", 1, 1)
    assert (found.queues, found.exclude_queues) == (None, ("slow", "bulk"))


def test_celery_multi_is_a_worker_of_unknown_count() -> None:
    [found], _ = invocations("celery multi start w1 w2 -A proj -Q emails", 1, 1)
    assert (found.command, found.app, found.queues, found.dynamic) == (
        "worker", "proj", ("emails",), True)


def test_celery_invocations_of_a_shell_line_each_after_an_operator() -> None:
    found, _ = invocations("python manage.py migrate && celery -A proj worker -Q a; "
                           "celery -A proj beat || true", 1, 1)
    assert [(i.command, i.queues) for i in found] == [("worker", ("a",)), ("beat", None)]


def test_command_without_celery_has_no_invocation() -> None:
    assert invocations("gunicorn proj.wsgi --workers 4", 1, 1) == ([], [])


def test_celery_app_named_like_a_subcommand() -> None:
    assert parsed("celery -A events worker -B") == ("worker", "events", None, True, False, False)


# -- development files --------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "dev"), [
    ("docker-compose.yml", False),
    ("docker-compose.prod.yml", False),
    ("deploy/production/docker-compose.yml", False),
    ("docker-compose.dev.yml", True),
    ("docker-compose.local.yml", True),
    ("compose-test.yaml", True),
    ("Procfile", False),
    ("Procfile.dev", True),
    ("deploy/local/Procfile", True),
    ("k8s/ci/worker.yaml", True),
])
def test_is_dev_path(path: str, dev: bool) -> None:
    assert is_dev_path(path) is dev


def test_is_dev_path_by_a_configured_pattern() -> None:
    assert (is_dev_path("deploy/staging/Procfile", ("deploy/staging",)),
            is_dev_path("deploy/staging/Procfile")) == (True, False)


# -- CEL401 embedded-beat -----------------------------------------------------------------------

EMBEDDED_COMPOSE = """
    services:
      worker:
        image: app
        command: celery -A proj worker -B
        restart: always
"""


def test_cel401_worker_b_in_compose(tmp_path: Path) -> None:
    assert check(tmp_path, {"docker-compose.yml": EMBEDDED_COMPOSE}, "CEL401") == [
        ("CEL401", "docker-compose.yml", 4)]


def test_cel401_worker_b_in_a_production_compose_file(tmp_path: Path) -> None:
    assert check(tmp_path, {"docker-compose.prod.yml": EMBEDDED_COMPOSE}, "CEL401") == [
        ("CEL401", "docker-compose.prod.yml", 4)]


def test_cel401_worker_b_in_a_dev_compose_file(tmp_path: Path) -> None:
    assert check(tmp_path, {"docker-compose.dev.yml": EMBEDDED_COMPOSE}, "CEL401") == []


def test_cel401_worker_b_in_a_local_folder(tmp_path: Path) -> None:
    assert check(tmp_path, {"deploy/local/docker-compose.yml": EMBEDDED_COMPOSE,
                            "deploy/local/Procfile": "worker: celery -A proj worker -B\n"},
                 "CEL401") == []


def test_cel401_project_inside_a_folder_named_dev_is_still_production(tmp_path: Path) -> None:
    # only the path within the project (the folder with manage.py) says dev or not
    root = tmp_path / "dev" / "shop"
    assert check(root, {"docker-compose.yml": EMBEDDED_COMPOSE}, "CEL401") == [
        ("CEL401", "docker-compose.yml", 4)]


def test_cel401_worker_beat_in_procfile(tmp_path: Path) -> None:
    procfile = "web: gunicorn proj.wsgi\nworker: celery -A proj worker --beat\n"
    assert check(tmp_path, {"Procfile": procfile}, "CEL401") == [("CEL401", "Procfile", 2)]


def test_cel401_worker_b_in_procfile_dev(tmp_path: Path) -> None:
    assert check(tmp_path, {"Procfile.dev": "worker: celery -A proj worker -B\n"},
                 "CEL401") == []


def test_cel401_dev_deployments_setting(tmp_path: Path) -> None:
    assert check(tmp_path, {"deploy/staging/Procfile": "worker: celery -A proj worker -B\n"},
                 "CEL401", dev_deployments=("deploy/staging/",)) == []


def test_cel401_beat_alone(tmp_path: Path) -> None:
    assert check(tmp_path, {"Procfile": "beat: celery -A proj beat\n"}, "CEL401") == []


def test_cel401_worker_without_b(tmp_path: Path) -> None:
    assert check(tmp_path, {"Procfile": "worker: celery -A proj worker -E\n"}, "CEL401") == []


def test_cel401_in_kubernetes_supervisord_and_systemd(tmp_path: Path) -> None:
    assert check(tmp_path, {
        "k8s/worker.yaml": """
            kind: Deployment
            metadata:
              name: worker
            spec:
              template:
                spec:
                  containers:
                    - name: worker
                      command: [celery, -A, proj, worker, -B]
        """,
        "deploy/supervisord.conf": "[program:worker]\ncommand=celery -A proj worker -B\n",
        "deploy/celery.service": "[Service]\nExecStart=/usr/bin/celery -A proj worker -B\n",
    }, "CEL401") == [("CEL401", "deploy/celery.service", 2),
                     ("CEL401", "deploy/supervisord.conf", 2),
                     ("CEL401", "k8s/worker.yaml", 9)]


def test_cel401_message(in_tmp: Path) -> None:
    [message] = messages(in_tmp, {"docker-compose.yml": EMBEDDED_COMPOSE}, "CEL401")
    assert message.startswith("`worker` runs beat inside a worker (`-B`)")


# -- CEL402 replicated-beat ---------------------------------------------------------------------

def beat_service(extra: str) -> str:
    return "services:\n  beat:\n    image: app\n    command: celery -A proj beat\n" + extra


def test_cel402_beat_with_replicas_2(tmp_path: Path) -> None:
    compose = beat_service("    deploy:\n      replicas: 2\n")
    assert check(tmp_path, {"docker-compose.yml": compose}, "CEL402") == [
        ("CEL402", "docker-compose.yml", 4)]


def test_cel402_beat_with_replicas_1(tmp_path: Path) -> None:
    compose = beat_service("    deploy:\n      replicas: 1\n")
    assert check(tmp_path, {"docker-compose.yml": compose}, "CEL402") == []


def test_cel402_beat_with_scale_2(tmp_path: Path) -> None:
    assert check(tmp_path, {"docker-compose.yml": beat_service("    scale: 2\n")}, "CEL402") == [
        ("CEL402", "docker-compose.yml", 4)]


def test_cel402_beat_scaled_in_a_dev_compose_file(tmp_path: Path) -> None:
    assert check(tmp_path, {"docker-compose.dev.yml": beat_service("    scale: 2\n")},
                 "CEL402") == []


def test_cel402_beat_with_numprocs_2(tmp_path: Path) -> None:
    conf = "[program:beat]\ncommand=celery -A proj beat\nnumprocs=2\n"
    assert check(tmp_path, {"deploy/supervisord.conf": conf}, "CEL402") == [
        ("CEL402", "deploy/supervisord.conf", 2)]


def test_cel402_beat_with_numprocs_1(tmp_path: Path) -> None:
    conf = "[program:beat]\ncommand=celery -A proj beat\nnumprocs=1\n"
    assert check(tmp_path, {"deploy/supervisord.conf": conf}, "CEL402") == []


KUBERNETES_BEAT = """
    kind: {kind}
    metadata:
      name: beat
    spec:
      {replicas}
      template:
        spec:
          containers:
            - name: beat
              command: [celery, -A, proj, beat]
"""


def test_cel402_beat_in_a_daemonset(tmp_path: Path) -> None:
    manifest = KUBERNETES_BEAT.format(kind="DaemonSet", replicas="minReadySeconds: 5")
    assert check(tmp_path, {"k8s/beat.yaml": manifest}, "CEL402") == [
        ("CEL402", "k8s/beat.yaml", 10)]


def test_cel402_beat_in_a_deployment_with_replicas_3(tmp_path: Path) -> None:
    manifest = KUBERNETES_BEAT.format(kind="Deployment", replicas="replicas: 3")
    assert check(tmp_path, {"k8s/beat.yaml": manifest}, "CEL402") == [
        ("CEL402", "k8s/beat.yaml", 10)]


def test_cel402_beat_in_a_deployment_with_replicas_1(tmp_path: Path) -> None:
    manifest = KUBERNETES_BEAT.format(kind="Deployment", replicas="replicas: 1")
    assert check(tmp_path, {"k8s/beat.yaml": manifest}, "CEL402") == []


def test_cel402_beat_template_unit(tmp_path: Path) -> None:
    unit = "[Service]\nExecStart=/usr/bin/celery -A proj beat\nRestart=always\n"
    assert check(tmp_path, {"deploy/celery-beat@.service": unit}, "CEL402") == [
        ("CEL402", "deploy/celery-beat@.service", 2)]


def test_cel402_beat_plain_unit(tmp_path: Path) -> None:
    unit = "[Service]\nExecStart=/usr/bin/celery -A proj beat\nRestart=always\n"
    assert check(tmp_path, {"deploy/celery-beat.service": unit}, "CEL402") == []


def test_cel402_worker_b_with_3_replicas(tmp_path: Path) -> None:
    compose = EMBEDDED_COMPOSE + "        deploy:\n          replicas: 3\n"
    assert check(tmp_path, {"docker-compose.yml": compose}, "CEL401", "CEL402") == [
        ("CEL401", "docker-compose.yml", 4), ("CEL402", "docker-compose.yml", 4)]


def test_cel402_worker_b_with_3_replicas_message(in_tmp: Path) -> None:
    compose = EMBEDDED_COMPOSE + "        deploy:\n          replicas: 3\n"
    [message] = messages(in_tmp, {"docker-compose.yml": compose}, "CEL402")
    assert message.startswith("`worker` runs a worker with embedded beat (-B) with 3 copies")


def test_cel402_two_beat_services_in_one_compose_file(tmp_path: Path) -> None:
    compose = beat_service("  scheduler:\n    image: app\n    command: celery -A proj beat\n")
    assert check(tmp_path, {"docker-compose.yml": compose}, "CEL402") == [
        ("CEL402", "docker-compose.yml", 7)]


def test_cel402_second_beat_names_the_first(in_tmp: Path) -> None:
    compose = beat_service("  scheduler:\n    image: app\n    command: celery -A proj beat\n")
    [message] = messages(in_tmp, {"docker-compose.yml": compose}, "CEL402")
    assert message.startswith("`scheduler` runs beat, and so does `beat` (docker-compose.yml:4) "
                              "in the same deployment")


def test_cel402_worker_b_beside_a_beat_service(tmp_path: Path) -> None:
    compose = EMBEDDED_COMPOSE + "      beat:\n        command: celery -A proj beat\n"
    assert check(tmp_path, {"docker-compose.yml": compose}, "CEL402") == [
        ("CEL402", "docker-compose.yml", 7)]


def test_cel402_two_beats_in_one_kubernetes_folder(tmp_path: Path) -> None:
    manifest = KUBERNETES_BEAT.format(kind="Deployment", replicas="replicas: 1")
    assert check(tmp_path, {"k8s/beat.yaml": manifest,
                            "k8s/scheduler.yaml": manifest.replace("name: beat", "name: sched")},
                 "CEL402") == [("CEL402", "k8s/scheduler.yaml", 10)]


def test_cel402_beats_in_three_alternative_deployments(tmp_path: Path) -> None:
    assert check(tmp_path, {
        "Procfile": "beat: celery -A proj beat\n",
        "docker-compose.yml": beat_service("    restart: always\n"),
        "k8s/beat.yaml": KUBERNETES_BEAT.format(kind="Deployment", replicas="replicas: 1"),
    }, "CEL402") == []


def test_cel402_dockerfile_cmd_beside_a_compose_beat(tmp_path: Path) -> None:
    assert check(tmp_path, {
        "Dockerfile": 'FROM python:3.12\nCMD ["celery", "-A", "proj", "beat"]\n',
        "docker-compose.yml": beat_service(""),
    }, "CEL402") == []


def test_cel402_two_beats_in_one_supervisord_conf_d(tmp_path: Path) -> None:
    assert check(tmp_path, {
        "deploy/supervisor/beat.conf": "[program:beat]\ncommand=celery -A proj beat\n",
        "deploy/supervisor/scheduler.conf": "[program:scheduler]\ncommand=celery -A proj beat\n",
    }, "CEL402") == [("CEL402", "deploy/supervisor/scheduler.conf", 2)]


# -- CEL403 unconsumed-queue --------------------------------------------------------------------

def test_cel403_task_and_call_queues_unconsumed(tmp_path: Path) -> None:
    assert check(tmp_path, {"shop/tasks.py": ROUTED_TASKS,
                            "Procfile": "worker: celery -A proj worker -Q celery\n"},
                 "CEL403") == [("CEL403", "shop/tasks.py", 4), ("CEL403", "shop/tasks.py", 10)]


def test_cel403_task_and_call_queues_consumed(tmp_path: Path) -> None:
    assert check(tmp_path, {"shop/tasks.py": ROUTED_TASKS,
                            "Procfile": "worker: celery -A proj worker -Q emails\n"
                                        "reports: celery -A proj worker -Q reports\n"},
                 "CEL403") == []


def test_cel403_message_names_the_deployment_that_lacks_it(in_tmp: Path) -> None:
    found = messages(in_tmp, {
        "shop/tasks.py": ROUTED_TASKS,
        "Procfile": "worker: celery -A proj worker -Q emails,reports\n",
        "docker-compose.yml": """
            services:
              worker:
                command: celery -A proj worker -Q emails
                restart: always
        """,
    }, "CEL403")
    assert found == [("Queue `reports` (`queue=` of `send_invoice.apply_async(...)`) is consumed "
                      "by no worker in docker-compose.yml: tasks sent there wait forever; add it "
                      "to a worker's `-Q`")]


def test_cel403_message_names_every_deployment_that_lacks_it(in_tmp: Path) -> None:
    [message, _] = messages(in_tmp, {
        "shop/tasks.py": ROUTED_TASKS,
        "Procfile": "worker: celery -A proj worker\n",
        "docker-compose.yml": "services:\n  worker:\n    command: celery -A proj worker\n",
    }, "CEL403")
    assert message.startswith("Queue `emails` (`queue=` of `shared_task(...)`) is consumed by no "
                              "worker in Procfile, docker-compose.yml:")


def test_cel403_scripts_of_a_folder_no_file_runs_are_one_deployment(tmp_path: Path) -> None:
    settings = BROKER + "CELERY_TASK_ROUTES = {'shop.tasks.*': {'queue': 'shop'}, 'a.b': 'bulk'}\n"
    files = {SETTINGS: settings,
             "bin/start-worker.sh": "#!/bin/sh\nexec celery -A proj worker -Q shop\n",
             "bin/start-bulk-worker.sh": "#!/bin/sh\nexec celery -A proj worker -Q bulk\n"}
    assert check(tmp_path / "both", files, "CEL403") == []
    # near miss: the bulk worker's script is for development only
    files["bin/start-bulk-worker-dev.sh"] = files.pop("bin/start-bulk-worker.sh")
    assert check(tmp_path / "dev", files, "CEL403") == [("CEL403", SETTINGS, 2)]


def test_script_that_only_asks_the_workers_is_not_a_process(tmp_path: Path) -> None:
    files = {"bin/healthcheck.sh": "#!/bin/sh\ncelery -A proj inspect ping -d celery@$HOSTNAME\n"}
    assert project_processes(tmp_path, files) == {}


def test_cel403_task_routes_value_unconsumed(tmp_path: Path) -> None:
    settings = BROKER + "CELERY_TASK_ROUTES = {'shop.tasks.*': {'queue': 'shop'}, 'a.b': 'bulk'}\n"
    assert check(tmp_path, {SETTINGS: settings,
                            "Procfile": "worker: celery -A proj worker -Q shop\n"},
                 "CEL403") == [("CEL403", SETTINGS, 2)]


def test_cel403_task_routes_values_consumed(tmp_path: Path) -> None:
    settings = BROKER + "CELERY_TASK_ROUTES = {'shop.tasks.*': {'queue': 'shop'}, 'a.b': 'bulk'}\n"
    assert check(tmp_path, {SETTINGS: settings,
                            "Procfile": "worker: celery -A proj worker -Q shop,bulk\n"},
                 "CEL403") == []


def test_cel403_default_queue_setting_unconsumed(tmp_path: Path) -> None:
    settings = BROKER + "CELERY_TASK_DEFAULT_QUEUE = 'main'\n"
    assert check(tmp_path, {SETTINGS: settings,
                            "Procfile": "worker: celery -A proj worker -Q emails\n"},
                 "CEL403") == [("CEL403", SETTINGS, 2)]


def test_cel403_default_queue_setting_consumed_by_a_worker_without_q(tmp_path: Path) -> None:
    settings = BROKER + "CELERY_TASK_DEFAULT_QUEUE = 'main'\n"
    assert check(tmp_path, {SETTINGS: settings, "Procfile": "worker: celery -A proj worker\n"},
                 "CEL403") == []


def test_cel403_worker_without_q_consumes_the_celery_queue(tmp_path: Path) -> None:
    assert check(tmp_path, {"shop/tasks.py": DEFAULT_QUEUE_TASK,
                            "Procfile": "worker: celery -A proj worker\n"}, "CEL403") == []


def test_cel403_worker_with_other_q_does_not_consume_the_celery_queue(tmp_path: Path) -> None:
    assert check(tmp_path, {"shop/tasks.py": DEFAULT_QUEUE_TASK,
                            "Procfile": "worker: celery -A proj worker -Q emails\n"},
                 "CEL403") == [("CEL403", "shop/tasks.py", 4)]


def test_cel403_worker_excluding_the_celery_queue(tmp_path: Path) -> None:
    assert check(tmp_path, {"shop/tasks.py": DEFAULT_QUEUE_TASK,
                            "Procfile": "worker: celery -A proj worker -X celery\n"},
                 "CEL403") == [("CEL403", "shop/tasks.py", 4)]


def test_cel403_celery_queue_no_longer_the_default(tmp_path: Path) -> None:
    settings = BROKER + "CELERY_TASK_DEFAULT_QUEUE = 'main'\n"
    assert check(tmp_path, {SETTINGS: settings, "shop/tasks.py": DEFAULT_QUEUE_TASK,
                            "Procfile": "worker: celery -A proj worker\n"}, "CEL403") == [
        ("CEL403", "shop/tasks.py", 4)]


def test_cel403_silent_without_a_worker_definition(tmp_path: Path) -> None:
    assert check(tmp_path, {"shop/tasks.py": ROUTED_TASKS,
                            "Procfile": "beat: celery -A proj beat\n"}, "CEL403") == []


def test_cel403_silent_without_any_deployment_file(tmp_path: Path) -> None:
    assert check(tmp_path, {"shop/tasks.py": ROUTED_TASKS}, "CEL403") == []


def test_cel403_silent_when_queues_come_from_a_variable(tmp_path: Path) -> None:
    assert check(tmp_path, {"shop/tasks.py": ROUTED_TASKS,
                            "Procfile": "worker: celery -A proj worker -Q $QUEUES\n"},
                 "CEL403") == []


def test_cel403_silent_when_the_only_worker_is_in_a_dev_file(tmp_path: Path) -> None:
    assert check(tmp_path, {"shop/tasks.py": ROUTED_TASKS,
                            "Procfile.dev": "worker: celery -A proj worker\n"}, "CEL403") == []


def test_cel403_consumed_in_a_compose_file_only_by_its_override(tmp_path: Path) -> None:
    # the override's worker joins the base file's deployment
    assert check(tmp_path, {
        "shop/tasks.py": DEFAULT_QUEUE_TASK.replace('queue="celery"', 'queue="emails"'),
        "docker-compose.yml": "services:\n  worker:\n    command: celery -A proj worker\n",
        "docker-compose.override.yml": """
            services:
              emails:
                command: celery -A proj worker -Q emails
        """,
    }, "CEL403") == []


def test_cel403_queues_consumed_across_a_supervisord_conf_d(tmp_path: Path) -> None:
    assert check(tmp_path, {
        "shop/tasks.py": ROUTED_TASKS,
        "deploy/supervisor/default.conf": "[program:default]\n"
                                          "command=celery -A proj worker -Q celery,reports\n",
        "deploy/supervisor/emails.conf": "[program:emails]\ncommand=celery -A proj worker -Q emails\n",
    }, "CEL403") == []


# -- CEL404 worker-without-restart --------------------------------------------------------------

def worker_service(extra: str) -> str:
    return "services:\n  worker:\n    image: app\n    command: celery -A proj worker\n" + extra


def test_cel404_compose_worker_without_restart(tmp_path: Path) -> None:
    assert check(tmp_path, {"docker-compose.yml": worker_service("")}, "CEL404") == [
        ("CEL404", "docker-compose.yml", 4)]


@pytest.mark.parametrize("written", ['"no"', "no"])
def test_cel404_compose_worker_with_restart_no(tmp_path: Path, written: str) -> None:
    compose = worker_service(f"    restart: {written}\n")
    assert check(tmp_path, {"docker-compose.yml": compose}, "CEL404") == [
        ("CEL404", "docker-compose.yml", 4)]


def test_cel404_message_says_how_restart_is_written(in_tmp: Path) -> None:
    [message] = messages(in_tmp, {"docker-compose.yml": worker_service("    restart: no\n")},
                         "CEL404")
    assert message.startswith("Worker `worker` has restart: no: when it crashes")


def test_cel404_compose_restart_unless_stopped(tmp_path: Path) -> None:
    compose = worker_service("    restart: unless-stopped\n")
    assert check(tmp_path, {"docker-compose.yml": compose}, "CEL404") == []


def test_cel404_compose_deploy_restart_policy(tmp_path: Path) -> None:
    compose = worker_service("    deploy:\n      restart_policy:\n        condition: on-failure\n")
    assert check(tmp_path, {"docker-compose.yml": compose}, "CEL404") == []


def test_cel404_compose_deploy_restart_policy_none(tmp_path: Path) -> None:
    compose = worker_service("    deploy:\n      restart_policy:\n        condition: none\n")
    assert check(tmp_path, {"docker-compose.yml": compose}, "CEL404") == [
        ("CEL404", "docker-compose.yml", 4)]


def test_cel404_supervisord_autorestart_false(tmp_path: Path) -> None:
    conf = "[program:worker]\ncommand=celery -A proj worker\nautorestart=false\n"
    assert check(tmp_path, {"deploy/supervisord.conf": conf}, "CEL404") == [
        ("CEL404", "deploy/supervisord.conf", 2)]


def test_cel404_supervisord_default_autorestart(tmp_path: Path) -> None:
    conf = "[program:worker]\ncommand=celery -A proj worker\n"
    assert check(tmp_path, {"deploy/supervisord.conf": conf}, "CEL404") == []


def test_cel404_systemd_without_restart(tmp_path: Path) -> None:
    unit = "[Unit]\nDescription=worker\n\n[Service]\nExecStart=/usr/bin/celery -A proj worker\n"
    assert check(tmp_path, {"deploy/celery-worker.service": unit}, "CEL404") == [
        ("CEL404", "deploy/celery-worker.service", 5)]


def test_cel404_systemd_restart_always(tmp_path: Path) -> None:
    unit = "[Service]\nExecStart=/usr/bin/celery -A proj worker\nRestart=always\n"
    assert check(tmp_path, {"deploy/celery-worker.service": unit}, "CEL404") == []


def test_cel404_kubernetes_always_restarts(tmp_path: Path) -> None:
    manifest = KUBERNETES_BEAT.format(kind="Deployment", replicas="replicas: 2").replace(
        "beat]", "worker]")
    assert check(tmp_path, {"k8s/worker.yaml": manifest}, "CEL404") == []


def test_cel404_procfile(tmp_path: Path) -> None:
    assert check(tmp_path, {"Procfile": "worker: celery -A proj worker\n"}, "CEL404") == []


def test_cel404_beat_without_restart_is_not_a_worker(tmp_path: Path) -> None:
    assert check(tmp_path, {"docker-compose.yml": beat_service("")}, "CEL404") == []


def test_cel404_worker_without_restart_in_a_dev_file(tmp_path: Path) -> None:
    assert check(tmp_path, {"docker-compose.dev.yml": worker_service("")}, "CEL404") == []


def test_cel404_dockerfile_cmd_has_no_policy_to_judge(tmp_path: Path) -> None:
    dockerfile = 'FROM python:3.12\nCMD ["celery", "-A", "proj", "worker"]\n'
    assert check(tmp_path, {"Dockerfile": dockerfile}, "CEL404") == []


# -- CEL405 no-monitoring -----------------------------------------------------------------------

WORKER = "worker: celery -A proj worker\n"


def test_cel405_no_monitor(tmp_path: Path) -> None:
    assert check(tmp_path, {"Procfile": WORKER}, "CEL405") == [("CEL405", SETTINGS, 1)]


def test_cel405_is_info_and_not_selected_by_default(tmp_path: Path) -> None:
    assert "CEL405" not in [code for code, _, _ in lint(tmp_path, {**CELERY_APP,
                                                                    "Procfile": WORKER})]


def test_cel405_flower_service(tmp_path: Path) -> None:
    compose = "services:\n  worker:\n    command: celery -A proj worker\n" \
              "  flower:\n    image: mher/flower:2.0\n"
    assert check(tmp_path, {"docker-compose.yml": compose}, "CEL405") == []


def test_cel405_celery_flower_command(tmp_path: Path) -> None:
    assert check(tmp_path, {"Procfile": WORKER + "flower: celery -A proj flower\n"},
                 "CEL405") == []


def test_cel405_worker_with_events(tmp_path: Path) -> None:
    assert check(tmp_path, {"Procfile": "worker: celery -A proj worker -E\n"}, "CEL405") == []


def test_cel405_send_task_events_setting(tmp_path: Path) -> None:
    settings = BROKER + "CELERY_WORKER_SEND_TASK_EVENTS = True\n"
    assert check(tmp_path, {SETTINGS: settings, "Procfile": WORKER}, "CEL405") == []


def test_cel405_send_task_events_setting_off(tmp_path: Path) -> None:
    settings = BROKER + "CELERY_WORKER_SEND_TASK_EVENTS = False\n"
    assert check(tmp_path, {SETTINGS: settings, "Procfile": WORKER}, "CEL405") == [
        ("CEL405", SETTINGS, 1)]


def test_cel405_flower_only_in_a_dev_file(tmp_path: Path) -> None:
    assert check(tmp_path, {"Procfile": WORKER,
                            "Procfile.dev": "flower: celery -A proj flower\n"}, "CEL405") == [
        ("CEL405", SETTINGS, 1)]


def test_cel405_silent_without_a_process_definition(tmp_path: Path) -> None:
    assert check(tmp_path, {}, "CEL405") == []


# -- malformed and hostile files ----------------------------------------------------------------

# A Procfile diagnostic and a Python diagnostic: proof that the other files are still checked.
STILL_CHECKED = {"Procfile": "worker: celery -A proj worker -B\n"}
STILL_FOUND = [("CEL401", "Procfile", 1), ("CEL301", SETTINGS, 1)]


def test_malformed_compose_file(in_tmp: Path) -> None:
    result = run_project(in_tmp, {**CELERY_APP, **STILL_CHECKED, "docker-compose.yml": """
        services:
          worker:
            command: [celery, -A
          beat: x
    """}, ("CEL401", "CEL301"))
    assert result.warnings == [("docker-compose.yml: malformed YAML (line 4): expected ',' or "
                                "']', but got ':'; skipped")]
    assert [(d.code, d.path, d.location.row) for d in result.diagnostics] == [
        (code, str(in_tmp / path), row) for code, path, row in STILL_FOUND]


def test_malformed_kubernetes_file_mentioning_celery(in_tmp: Path) -> None:
    result = run_project(in_tmp, {**CELERY_APP, **STILL_CHECKED, "k8s/worker.yaml": """
        kind: Deployment
        spec:
          containers: [
            command: celery -A proj worker
          : :
    """}, ("CEL401", "CEL301"))
    assert result.warnings == [("k8s/worker.yaml: malformed YAML (line 5): expected ',' or ']', "
                                "but got ':'; skipped")]
    assert result.internal_errors == 0
    assert len(result.diagnostics) == len(STILL_FOUND)


def test_malformed_yaml_not_mentioning_celery_is_not_ours(in_tmp: Path) -> None:
    result = run_project(in_tmp, {**CELERY_APP, **STILL_CHECKED,
                                  "k8s/web.yaml": "kind: Deployment\nspec: [\n  : :\n"},
                         ("CEL401",))
    assert (result.warnings, len(result.diagnostics)) == ([], 1)


def test_malformed_supervisord_conf(in_tmp: Path) -> None:
    result = run_project(in_tmp, {**CELERY_APP, **STILL_CHECKED, "deploy/supervisord.conf": """
        command=celery -A proj worker -B
        [program:worker]
        command=celery -A proj worker -B
    """}, ("CEL401", "CEL301"))
    assert result.warnings == [("deploy/supervisord.conf: malformed INI: File contains no "
                                "section headers.; skipped")]
    assert [(d.code, Path(d.path).relative_to(in_tmp).as_posix(), d.location.row)
            for d in result.diagnostics] == STILL_FOUND


def test_deeply_nested_yaml_is_skipped_with_a_warning() -> None:
    facts = read("compose", "services: " + "[" * 5000 + "]" * 5000 + "\n", "docker-compose.yml")
    assert (facts.processes, facts.warnings) == ((), ("too deeply nested to read; skipped",))


def lint_with_timeout(root: Path, files: dict[str, str], codes: tuple[str, ...], seconds: float
                      ) -> list[list[object]]:
    """(code, path, row) of a run in a child process, which is killed after `seconds`."""
    write_project(root, {**CELERY_APP, **files})
    script = textwrap.dedent("""
        import json, sys
        from pathlib import Path
        from celery_lint.config import Config
        from celery_lint.runner import run

        root = Path(sys.argv[1])
        result = run([root], Config(root=root, select=tuple(sys.argv[2:])))
        print(json.dumps([[d.code, Path(d.path).relative_to(root).as_posix(), d.location.row]
                          for d in result.diagnostics]))
    """)
    done = subprocess.run([sys.executable, "-c", script, str(root), *codes], capture_output=True,
                          text=True, timeout=seconds, check=True)
    return json.loads(done.stdout)


def laughs(alias: str) -> str:
    """Ten levels of anchors, each aliasing the one below nine times (9**10 nodes unfolded)."""
    text = "x-l0: &l0 {image: lol}\n" if alias == "merge" else "x-l0: &l0 [lol, lol]\n"
    for level in range(1, 11):
        below = ", ".join([f"*l{level - 1}"] * 9)
        text += f"x-l{level}: &l{level} " + (
            f"{{<<: [{below}]}}\n" if alias == "merge" else f"[{below}]\n")
    return text


def test_billion_laughs_in_a_list(tmp_path: Path) -> None:
    compose = laughs("list") + ("services:\n  worker:\n    command: celery -A proj worker -B\n"
                                "    environment: *l10\n")
    assert lint_with_timeout(tmp_path, {"docker-compose.yml": compose}, ("CEL401", "CEL404"),
                             20) == [["CEL401", "docker-compose.yml", 14],
                                     ["CEL404", "docker-compose.yml", 14]]


def test_billion_laughs_through_merge_keys(tmp_path: Path) -> None:
    compose = laughs("merge") + ("services:\n  worker:\n    <<: *l10\n"
                                 "    command: celery -A proj worker -B\n")
    assert lint_with_timeout(tmp_path, {"docker-compose.yml": compose}, ("CEL401", "CEL404"),
                             20) == [["CEL401", "docker-compose.yml", 15],
                                     ["CEL404", "docker-compose.yml", 15]]


# -- noqa and per-file ignores ------------------------------------------------------------------

def test_noqa_on_a_compose_command_line(tmp_path: Path) -> None:
    compose = EMBEDDED_COMPOSE.replace("-B", "-B  # noqa: CEL401")
    assert check(tmp_path, {"docker-compose.yml": compose}, "CEL401", "CEL002") == []


def test_noqa_for_another_code_on_a_compose_command_line(tmp_path: Path) -> None:
    compose = EMBEDDED_COMPOSE.replace("-B", "-B  # noqa: CEL402")
    assert check(tmp_path, {"docker-compose.yml": compose}, "CEL401") == [
        ("CEL401", "docker-compose.yml", 4)]


def test_noqa_in_a_procfile(tmp_path: Path) -> None:
    procfile = "worker: celery -A proj worker -B  # noqa: CEL401\n"
    assert check(tmp_path, {"Procfile": procfile}, "CEL401", "CEL002") == []


def test_noqa_in_a_systemd_unit(tmp_path: Path) -> None:
    unit = "[Service]\nExecStart=/usr/bin/celery -A proj worker -B  # noqa: CEL401\n" \
           "Restart=always\n"
    assert check(tmp_path, {"deploy/celery.service": unit}, "CEL401", "CEL002") == []


def test_noqa_on_another_row_of_a_systemd_unit_is_unused(tmp_path: Path) -> None:
    unit = "[Service]\n# noqa: CEL401\nExecStart=/usr/bin/celery -A proj worker -B\n" \
           "Restart=always\n"
    assert check(tmp_path, {"deploy/celery.service": unit}, "CEL401", "CEL002") == [
        ("CEL002", "deploy/celery.service", 2), ("CEL401", "deploy/celery.service", 3)]


def test_unused_noqa_in_yaml_is_cel002(tmp_path: Path) -> None:
    compose = worker_service("    restart: always\n").replace(
        "worker\n", "worker  # noqa: CEL404\n", 2)
    assert compose.splitlines()[3].endswith("# noqa: CEL404")
    assert check(tmp_path, {"docker-compose.yml": compose}, "CEL404", "CEL002") == [
        ("CEL002", "docker-compose.yml", 4)]


def test_used_noqa_in_yaml_is_not_cel002(tmp_path: Path) -> None:
    compose = worker_service("").replace("celery -A proj worker\n",
                                         "celery -A proj worker  # noqa: CEL404\n")
    assert check(tmp_path, {"docker-compose.yml": compose}, "CEL404", "CEL002") == []


def test_noqa_in_a_script_a_compose_file_runs(tmp_path: Path) -> None:
    files = {**COPIED_SCRIPT, "compose/start-worker": COPIED_SCRIPT["compose/start-worker"]
             .replace("-B", "-B  # noqa: CEL401")}
    assert check(tmp_path, files, "CEL401", "CEL002") == []


def test_per_file_ignores_for_a_deployment_file(tmp_path: Path) -> None:
    assert check(tmp_path, {"Procfile": "worker: celery -A proj worker -B\n"}, "CEL401",
                 per_file_ignores=(("Procfile", ("CEL401",)),)) == []


def test_file_level_noqa_in_a_deployment_file(tmp_path: Path) -> None:
    procfile = "# celery-lint: noqa: CEL401\nworker: celery -A proj worker -B\n"
    assert check(tmp_path, {"Procfile": procfile}, "CEL401") == []


# -- audit rows ---------------------------------------------------------------------------------

def deployment_rows(root: Path, files: dict[str, str]) -> dict[str, Row]:
    """The three deployment rows of the audit of CELERY_APP plus `files`, by code."""
    write_project(root, {**CELERY_APP, **files})
    [audit] = audits(load_project([root], Config(root=root)).index)
    return {row.code: row for row in (check(audit) for check in (worker_restarts, monitor,
                                                                   single_beat))}


def statuses(rows: dict[str, Row]) -> dict[str, str]:
    return {code: row.status for code, row in rows.items()}


def test_audit_rows_unknown_without_process_definitions(tmp_path: Path) -> None:
    rows = deployment_rows(tmp_path, {})
    assert statuses(rows) == {"CEL404": "unknown", "CEL405": "unknown", "CEL402": "unknown"}
    assert rows["CEL404"].detail.startswith("no process definitions found")


def test_audit_rows_unknown_with_only_dev_process_definitions(tmp_path: Path) -> None:
    rows = deployment_rows(tmp_path, {"Procfile.dev": "worker: celery -A proj worker -B\n"})
    assert statuses(rows) == {"CEL404": "unknown", "CEL405": "unknown", "CEL402": "unknown"}


FAILING_COMPOSE = """
    services:
      worker:
        image: app
        command: celery -A proj worker
      beat:
        image: app
        command: celery -A proj beat
        restart: always
        deploy:
          replicas: 2
"""


def test_audit_rows_fail(tmp_path: Path) -> None:
    rows = deployment_rows(tmp_path, {"docker-compose.yml": FAILING_COMPOSE})
    assert statuses(rows) == {"CEL404": "fail", "CEL405": "fail", "CEL402": "fail"}
    assert {code: row.where for code, row in rows.items()} == {
        "CEL404": f"{tmp_path / 'docker-compose.yml'}:4",
        "CEL405": f"{tmp_path / SETTINGS}:1",
        "CEL402": f"{tmp_path / 'docker-compose.yml'}:7"}


def test_audit_row_fail_carries_its_diagnostics(tmp_path: Path) -> None:
    rows = deployment_rows(tmp_path, {"docker-compose.yml": FAILING_COMPOSE})
    assert [(code, [(d.code, d.location.row) for d in row.diagnostics])
            for code, row in rows.items()] == [
        ("CEL404", [("CEL404", 4)]), ("CEL405", [("CEL405", 1)]), ("CEL402", [("CEL402", 7)])]
    assert rows["CEL404"].value == "1 process definition(s)"


def test_audit_rows_pass(tmp_path: Path) -> None:
    rows = deployment_rows(tmp_path, {"Procfile": "worker: celery -A proj worker\n"
                                                  "beat: celery -A proj beat\n"
                                                  "flower: celery -A proj flower\n"})
    assert statuses(rows) == {"CEL404": "pass", "CEL405": "pass", "CEL402": "pass"}
    assert (rows["CEL405"].value, rows["CEL405"].where) == (
        "flower `flower`", f"{tmp_path / 'Procfile'}:3")


def test_audit_monitor_row_passes_on_an_events_worker(tmp_path: Path) -> None:
    rows = deployment_rows(tmp_path, {"Procfile": "worker: celery -A proj worker -E\n"})
    assert (rows["CEL405"].status, rows["CEL405"].value) == (
        "pass", "worker `worker` with task events (-E)")


def test_audit_rows_not_applicable_without_beat(tmp_path: Path) -> None:
    rows = deployment_rows(tmp_path, {"Procfile": "worker: celery -A proj worker -E\n"})
    assert statuses(rows) == {"CEL404": "pass", "CEL405": "pass", "CEL402": "not-applicable"}


def test_audit_rows_not_applicable_without_worker(tmp_path: Path) -> None:
    rows = deployment_rows(tmp_path, {"Procfile": "beat: celery -A proj beat\n"})
    assert statuses(rows) == {"CEL404": "not-applicable", "CEL405": "fail", "CEL402": "pass"}


def test_audit_beat_row_ignores_a_dockerfile_default(tmp_path: Path) -> None:
    rows = deployment_rows(tmp_path, {
        "Dockerfile": 'FROM python:3.12\nCMD ["celery", "-A", "proj", "beat"]\n',
        "Procfile": "worker: celery -A proj worker\n"})
    assert rows["CEL402"].status == "not-applicable"


# -- the settings a deployment names ------------------------------------------------------------

@pytest.mark.parametrize(("kind", "text"), [
    ("compose", ("services:\n  web:\n    image: x\n    environment:\n"
                "      DJANGO_SETTINGS_MODULE: proj.settings.production\n")),
    ("compose", ("services:\n  web:\n    image: x\n    environment:\n"
                "      - \"DJANGO_SETTINGS_MODULE=proj.settings.production\"\n")),
    ("dockerfile", "FROM python\nENV DJANGO_SETTINGS_MODULE=proj.settings.production PORT=80\n"),
    ("dockerfile", "FROM python\nENV DJANGO_SETTINGS_MODULE proj.settings.production\n"),
    ("kubernetes", ("kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n"
                   "        - name: worker\n          command: [celery, worker]\n          env:\n"
                   "            - name: DJANGO_SETTINGS_MODULE\n"
                   "              value: \"proj.settings.production\"\n")),
    ("systemd", ("[Service]\nEnvironment=\"DJANGO_SETTINGS_MODULE=proj.settings.production\"\n"
                "ExecStart=celery -A proj worker\n")),
    ("supervisord", ("[program:worker]\ncommand=celery -A proj worker\n"
                    "environment=DJANGO_SETTINGS_MODULE=\"proj.settings.production\",X=\"1\"\n")),
    ("procfile", "worker: DJANGO_SETTINGS_MODULE=proj.settings.production celery -A proj worker\n"),
    ("shell", ("#!/bin/sh\nexport DJANGO_SETTINGS_MODULE=proj.settings.production\n"
              "exec celery -A proj worker\n")),
])
def test_settings_module_a_deployment_file_names(kind: str, text: str) -> None:
    assert read(kind, text).environment == (("DJANGO_SETTINGS_MODULE", "proj.settings.production"),)


@pytest.mark.parametrize("text", [
    "#!/bin/sh\n# DJANGO_SETTINGS_MODULE=proj.settings.dev\nexec celery -A proj worker\n",
    "#!/bin/sh\necho \"DJANGO_SETTINGS_MODULE is $DJANGO_SETTINGS_MODULE\"\ncelery -A proj worker\n",
    "#!/bin/sh\nexport DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-proj.settings}\ncelery\n",
])
def test_settings_module_not_named_by_a_comment_or_a_variable(text: str) -> None:
    assert read("shell", text).environment == ()


def test_configuration_class_a_compose_file_names() -> None:
    text = "services:\n  web:\n    image: x\n    environment:\n      DJANGO_CONFIGURATION: Prod\n"
    assert read("compose", text).environment == (("DJANGO_CONFIGURATION", "Prod"),)
