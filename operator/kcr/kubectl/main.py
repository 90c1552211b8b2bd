"""`kubectl kcr`: review, approve and steer KafkaChangeRequests as yourself.

Installed as the console script ``kubectl-kcr``, which kubectl finds on PATH as a plugin.
"""

import json
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import click
import yaml
from rich.console import Console
from tenacity import (
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
)

from kcr.kube.errors import KubeConflictError, KubeError
from kcr.kubectl import annotations as notes
from kcr.kubectl.client import PluginKube, Target
from kcr.kubectl.signing import SigningError, sign_spec_hash
from kcr.kubectl.views import Parsed, describe, list_table, now_utc, parse
from kcr.model import Channel, Phase
from kcr.plan import parse_request, spec_hash
from kcr.policy.approvals import parse_approvers
from kcr.policy.signatures import parse_signed_approvals

PATCH_ATTEMPTS = 3
PATCH_SECONDS = 30.0
"""Longest the plugin keeps reading a request again that others keep changing."""
PIPE_WIDTH = 160
T = TypeVar("T")

log = logging.getLogger(__name__)


@dataclass
class Session:
    target: Target
    _client: PluginKube | None = None

    @property
    def kube(self) -> PluginKube:
        if self._client is None:
            try:
                self._client = PluginKube(self.target)
            except KubeError as error:
                raise click.ClickException(str(error)) from error
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


pass_session = click.make_pass_decorator(Session)


def _namespace_here(ctx: click.Context, _: click.Parameter, value: str | None) -> None:
    if value:
        session = ctx.find_object(Session)
        if session is not None:
            session.target = replace(session.target, namespace=value)


namespace_option = click.option(
    "-n",
    "--namespace",
    expose_value=False,
    callback=_namespace_here,
    help="Namespace of the request (as kubectl: also after the command).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--kubeconfig", envvar="KUBECONFIG", help="Path to the kubeconfig file.")
@click.option("--context", help="The kubeconfig context to use.")
@click.option("-n", "--namespace", help="Namespace of the requests (default: the context's).")
@click.option("-v", "--verbose", is_flag=True, help="Log API calls to stderr.")
@click.pass_context
def cli(
    ctx: click.Context,
    kubeconfig: str | None,
    context: str | None,
    namespace: str | None,
    verbose: bool,
) -> None:
    """Review and steer Kafka change requests (kcr.dev KafkaChangeRequests)."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, stream=sys.stderr)
    if not verbose:  # retries and reconnects repeat what the one-line error will say
        logging.getLogger("kcr.kafka.librdkafka").setLevel(logging.CRITICAL)
    session = Session(Target(kubeconfig=kubeconfig, context=context, namespace=namespace))
    ctx.obj = session
    ctx.call_on_close(session.close)


@cli.command("list")
@click.option("-A", "--all-namespaces", is_flag=True, help="List requests in every namespace.")
@click.option(
    "--phase",
    "phases",
    multiple=True,
    type=click.Choice([p.value for p in Phase]),
    help="Only requests in this phase (repeatable).",
)
@click.option(
    "-o",
    "--output",
    type=click.Choice(["table", "name", "json"]),
    default="table",
    show_default=True,
)
@namespace_option
@pass_session
def list_requests(
    session: Session, all_namespaces: bool, phases: tuple[str, ...], output: str
) -> None:
    """List change requests with phase, risk, target and approvers."""
    namespace = None if all_namespaces else session.kube.namespace
    requests = [parse(raw) for raw in _kube(lambda: session.kube.list_requests(namespace))]
    if phases:
        requests = [r for r in requests if r.phase.value in phases]
    if output == "name":
        for request in requests:
            click.echo(f"kafkachangerequest.kcr.dev/{request.name}")
    elif output == "json":
        click.echo(json.dumps([r.raw for r in requests], indent=2, default=str))
    elif not requests:
        where = "any namespace" if all_namespaces else f"namespace {namespace}"
        click.echo(f"No KafkaChangeRequests found in {where}.", err=True)
    else:
        table = list_table(requests, now_utc(), all_namespaces)
        console = _console()
        # Measured on an unbounded console: a bounded one caps the answer at its own width.
        needed = Console(width=10_000).measure(table).maximum
        if needed > console.width:  # like kubectl get: long rows stay whole lines
            console = Console(soft_wrap=False, highlight=False, width=needed)
        console.print(table)


@cli.command("describe")
@click.argument("name")
@namespace_option
@pass_session
def describe_request(session: Session, name: str) -> None:
    """Show one request: phase, risk, plan with step states, gates, rollback, evidence, history."""
    request = parse(_kube(lambda: session.kube.get_request(name)))
    _console().print(describe(request, now_utc()))


@cli.command()
@click.argument("name", required=False)
@click.option(
    "--username",
    help="Approve as this user when the API server cannot say who you are (before "
    "Kubernetes 1.28); the admission policy still checks that it is you. With --file: "
    "the name to record.",
)
@click.option(
    "-f",
    "--file",
    "path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Approve the request in this YAML file (a GitOps pull request) instead of the "
    "cluster, with your SSH signature over its spec hash; needs --username and --key.",
)
@click.option(
    "--key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar="KCR_SIGNING_KEY",
    help="With --file: the SSH key to sign with, as for git commit signing (a private key, "
    "or the public key of one held by ssh-agent) [env KCR_SIGNING_KEY].",
)
@namespace_option
@pass_session
def approve(
    session: Session, name: str | None, username: str | None, path: Path | None, key: Path | None
) -> None:
    """Approve NAME as yourself, bound to the hash of the spec you reviewed.

    With --file, sign the approval into a GitOps pull request instead: the operator counts
    it only if your signature verifies against its allowed-signers list under --username.
    """
    if path is not None:
        _approve_file(path, username, key)
        return
    if name is None:
        raise click.UsageError("give the NAME of a request, or --file")
    user = _current_user(session, username)
    patched = _annotate(session, name, lambda request: notes.approve(request, user))
    approvers = parse_approvers(patched["metadata"].get("annotations", {}).get(notes.APPROVED_BY))
    request = parse(patched)
    digest = spec_hash(request.spec) if request.spec else "?"
    click.echo(
        f"approved {request.namespace}/{name} as {user} (spec sha256 {digest[:12]}); "
        f"approvers now: {', '.join(approvers)}"
    )


@cli.command()
@click.argument("name")
@click.option("--username", help="Reject as this user when the API server cannot say.")
@namespace_option
@pass_session
def reject(session: Session, name: str, username: str | None) -> None:
    """Reject NAME as yourself; the operator stops it as Rejected."""
    user = _current_user(session, username)
    _annotate(session, name, lambda request: notes.reject(request, user))
    click.echo(f"rejected {session.kube.namespace}/{name} as {user}")


@cli.command("continue")
@click.argument("name")
@click.option("--username", help="Continue as this user when the API server cannot say.")
@namespace_option
@pass_session
def continue_request(session: Session, name: str, username: str | None) -> None:
    """Let NAME past the manual gate it waits at, into its next stage."""
    user = _current_user(session, username)
    patched = _annotate(session, name, lambda request: notes.continue_stage(request, user))
    stage = patched["metadata"].get("annotations", {}).get(notes.CONTINUE)
    click.echo(f"continued {session.kube.namespace}/{name} past the gate after stage {stage}")


@cli.command()
@click.argument("name")
@namespace_option
@pass_session
def abort(session: Session, name: str) -> None:
    """Stop NAME before its next step (steps already done stay done; see rollback)."""
    _annotate(session, name, notes.abort)
    click.echo(f"abort requested for {session.kube.namespace}/{name}")


@cli.command()
@click.argument("name")
@click.option("--username", help="Ask as this user when the API server cannot say.")
@namespace_option
@pass_session
def rollback(session: Session, name: str, username: str | None) -> None:
    """Ask for NAME's rollback plan to run, as yourself.

    After Succeeded the rollback is a change of its own: the operator shows its plan and
    risk, and someone other than you approves it with approve-rollback.
    """
    user = _current_user(session, username)
    patched = _annotate(session, name, lambda request: notes.rollback(request, user))
    phase = parse(patched).phase
    after = (
        " for review: someone else approves it with approve-rollback"
        if (phase is Phase.SUCCEEDED)
        else ""
    )
    click.echo(f"rollback of {session.kube.namespace}/{name} requested as {user}{after}")


@cli.command("approve-rollback")
@click.argument("name")
@click.option("--username", help="Approve as this user when the API server cannot say.")
@namespace_option
@pass_session
def approve_rollback(session: Session, name: str, username: str | None) -> None:
    """Approve the rollback of NAME that someone else asked for, bound to its review's hash."""
    user = _current_user(session, username)
    patched = _annotate(session, name, lambda request: notes.approve_rollback(request, user))
    given = patched["metadata"].get("annotations", {})
    approvers = parse_approvers(given.get(notes.ROLLBACK_APPROVED_BY))
    click.echo(
        f"approved the rollback of {session.kube.namespace}/{name} as {user} (rollback sha256 "
        f"{given.get(notes.ROLLBACK_APPROVED_HASH, '?')[:12]}); approvers now: "
        f"{', '.join(approvers)}"
    )


@cli.command()
@click.argument("name")
@click.option("--exit-code", is_flag=True, help="Exit 1 when the live state differs.")
@click.option(
    "--kafka-bootstrap",
    envvar="KCR_KAFKA_BOOTSTRAP",
    help="host:port[,host:port] to reach Kafka at from here, instead of the KafkaCluster's "
    "bootstrap servers (e.g. a port-forward) [env KCR_KAFKA_BOOTSTRAP].",
)
@namespace_option
@pass_session
def diff(session: Session, name: str, exit_code: bool, kafka_bootstrap: str | None) -> None:
    """Compare what NAME's draft observed with the live Kafka state, as a unified diff.

    It connects to Kafka from here, as you: you need network access to the bootstrap
    servers and, for a TLS or SASL cluster, read access to the KafkaCluster's Secrets.
    """
    from kcr.kubectl.live import diff_against_live  # noqa: PLC0415 (loads the Kafka client)

    request = parse(_kube(lambda: session.kube.get_request(name)))
    if request.spec is None:
        raise click.ClickException(f"{name} has an unreadable spec: {'; '.join(request.problems)}")
    try:
        lines = diff_against_live(session.kube, request.spec, kafka_bootstrap)
    except KubeError as error:
        raise click.ClickException(str(error)) from error
    if not lines:
        click.echo(f"{name}: the live state matches spec.observed")
        return
    for line in lines:
        style = {"+": "green", "-": "red", "@": "cyan"}.get(line[:1])
        click.secho(line, fg=style)
    if exit_code:
        sys.exit(1)


def _approve_file(path: Path, username: str | None, key: Path | None) -> None:
    """Sign the approval into the file: git carries it, the operator verifies it."""
    if not username:
        raise click.UsageError(
            "--file needs --username: your Kubernetes user name, as the allowed-signers list "
            "names you"
        )
    if key is None:
        raise click.UsageError(
            "--file needs --key: your SSH key, as for git commit signing (a private key, or "
            "the public key of one held by ssh-agent)"
        )
    try:
        document = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise click.ClickException(f"{path}: not valid YAML: {error}") from error
    parsed = parse_request(document)
    if parsed.request is None:
        raise click.ClickException(
            f"{path}: invalid KafkaChangeRequest: {'; '.join(parsed.errors)}"
        )
    request = parsed.request
    if request.spec.requested_by.channel is not Channel.GITOPS:
        raise click.ClickException(
            f"{path}: spec.requestedBy.channel is {request.spec.requested_by.channel.value}; "
            "approvals carried in git count only on a request whose channel is gitops: "
            "draft it with kcr mcp --drafts yaml, or approve the request in the cluster"
        )
    metadata = document.setdefault("metadata", {})
    current = notes.Request(
        name=request.metadata.name,
        requester=request.spec.requested_by.principal,
        spec_hash=spec_hash(request.spec),
        annotations=dict(metadata.get("annotations") or {}),
        status=None,
    )
    try:
        patch = notes.sign_approval(current, username, lambda digest: sign_spec_hash(digest, key))
    except (notes.RefusedError, SigningError) as refused:
        raise click.ClickException(str(refused)) from refused
    metadata["annotations"] = {**(metadata.get("annotations") or {}), **patch}
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
    signers = [a.approver for a in parse_signed_approvals(patch[notes.APPROVAL_SIGNATURES] or "")]
    click.echo(
        f"signed the approval of {request.metadata.name} in {path} as {username} "
        f"(spec sha256 {current.spec_hash[:12]}); signed by: {', '.join(signers)}"
    )


def _annotate(
    session: Session, name: str, decide: Callable[[notes.Request], notes.Patch]
) -> dict[str, Any]:
    """Read, decide, patch with the read resourceVersion; on a conflict read again."""
    retrying = Retrying(
        retry=retry_if_exception_type(KubeConflictError),
        stop=stop_after_attempt(PATCH_ATTEMPTS) | stop_after_delay(PATCH_SECONDS),
        before_sleep=lambda state: log.info(
            "%s changed while being annotated (attempt %d); reading it again",
            name,
            state.attempt_number,
        ),
    )
    try:
        patched: dict[str, Any] = retrying(_annotate_once, session, name, decide)
    except RetryError as error:
        raise click.ClickException(
            f"{name} kept changing while being annotated ({PATCH_ATTEMPTS} attempts); try again"
        ) from error
    except KubeError as error:
        raise click.ClickException(str(error)) from error
    return patched


def _annotate_once(
    session: Session, name: str, decide: Callable[[notes.Request], notes.Patch]
) -> dict[str, Any]:
    raw = _kube(lambda: session.kube.get_request(name))
    request = _request_of(parse(raw))
    try:
        patch = decide(request)
    except notes.RefusedError as refused:
        raise click.ClickException(str(refused)) from refused
    return session.kube.patch_annotations(
        name, patch, str(raw["metadata"].get("resourceVersion", ""))
    )


def _request_of(parsed: Parsed) -> notes.Request:
    if parsed.spec is None:
        raise click.ClickException(
            f"{parsed.name} has an unreadable spec: {'; '.join(parsed.problems)}"
        )
    return notes.Request(
        name=parsed.name,
        requester=parsed.spec.requested_by.principal,
        spec_hash=spec_hash(parsed.spec),
        annotations=parsed.annotations,
        status=parsed.status,
    )


def _current_user(session: Session, username: str | None) -> str:
    user = _kube(session.kube.whoami)
    if username and user and username != user:
        raise click.ClickException(
            f"--username {username} is not you: the API server knows you as {user}"
        )
    if user or username:
        return str(user or username)
    raise click.ClickException(
        "cannot tell who you are: the API server does not answer SelfSubjectReview "
        "(Kubernetes 1.28+); pass --username with your Kubernetes user name"
    )


def _kube(call: Callable[[], T]) -> T:
    try:
        return call()
    except KubeError as error:
        raise click.ClickException(str(error)) from error


def _console() -> Console:
    """The terminal's width, or a wide page when the output goes to a file or a pipe."""
    console = Console(soft_wrap=False, highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(soft_wrap=False, highlight=False, width=PIPE_WIDTH)
    return console
