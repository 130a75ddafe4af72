"""One place that turns AWS failures into tool errors a person can act on."""

from __future__ import annotations

import logging
from collections.abc import Callable

from mcp_server.inventory import ResolutionError
from utils.aws import TimeoutBudget
from utils.config import Settings
from utils.logs import debug_enabled
from utils.urls import public_url, redact

log = logging.getLogger(__name__)

# Code -> what to do about it. The AWS message is appended when it adds detail.
_ADVICE: dict[str, str] = {
    "UnauthorizedOperation": "the AWS credentials in use are not allowed to do this; grant the IAM permission or use another profile",
    "AccessDenied": "the AWS credentials in use are not allowed to do this; grant the IAM permission or use another profile",
    "AccessDeniedException": "the AWS credentials in use are not allowed to do this; grant the IAM permission or use another profile",
    "AuthFailure": "AWS rejected the credentials; check AWS_PROFILE or refresh them",
    "ExpiredToken": "the AWS session has expired; log in again (for example `aws sso login`)",
    "ExpiredTokenException": "the AWS session has expired; log in again (for example `aws sso login`)",
    "InvalidClientTokenId": "AWS does not recognise the access key; check AWS_PROFILE",
    "InvalidInstanceID.NotFound": "no such instance in this region; list instances to see what exists",
    "InvalidInstanceID.Malformed": "that is not a valid instance id (expected i- followed by 8 or 17 hex digits)",
    "OperationNotPermitted": "EC2 refused: stop or termination protection is on for this instance",
    "IncorrectInstanceState": "the instance is not in a state that allows this action; check its state first",
    "Throttling": "AWS is throttling requests; wait a few seconds and try again",
    "ThrottlingException": "AWS is throttling requests; wait a few seconds and try again",
    "RequestLimitExceeded": "AWS is throttling requests; wait a few seconds and try again",
    "ResourceNotFoundException": "the resource does not exist; check the name",
    "DataUnavailableException": "Cost Explorer has no data for that period yet",
    "BillExpirationException": "Cost Explorer cannot return data that old",
    "InvalidParameterValue": "AWS rejected a parameter",
    "InvalidParameterCombination": "AWS rejected a parameter",
    "ValidationException": "AWS rejected a parameter",
    "ValidationError": "AWS rejected a parameter",
    "OptInRequired": "this account is not subscribed to the service (for Cost Explorer: enable it in the Billing console)",
}


def describe_aws_error(exc: BaseException, service: str = "AWS", *, endpoint: str | None = None,
                       budget: str | None = None) -> str:
    """A one-line '<Code>: what to do (detail)' sentence for any boto3/botocore failure.

    `endpoint` is the configured AWS_ENDPOINT_URL (None: AWS's own), `budget` how long the call
    was allowed ("30 s (3 attempts)"). Userinfo in any URL is removed (utils/urls.py).
    """
    return redact(" ".join(_describe(exc, service, endpoint, budget).split()))


def _describe(exc: BaseException, service: str, endpoint: str | None, budget: str | None) -> str:
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        ParamValidationError,
        ProfileNotFound,
        ReadTimeoutError,
    )
    from botocore.parsers import ResponseParserError

    where = _where(service, getattr(exc, "kwargs", {}).get("endpoint_url") or endpoint)
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code", "Unknown")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        if status >= 500 and code not in _ADVICE:
            return (f"ServiceError: {where} answered HTTP {status} ({error.get('Message') or code}); "
                    "the service or the endpoint is failing: try again later, and check AWS_ENDPOINT_URL")
        detail = (error.get("Message") or "").strip()
        advice = _ADVICE.get(code)
        if advice and detail:
            return f"{code}: {advice} ({detail})"
        return f"{code}: {advice or detail or 'AWS returned an error'}"
    if isinstance(exc, NoCredentialsError):
        return ("NoCredentials: no AWS credentials found; set AWS_PROFILE, run `aws configure`, "
                "or start with --sandbox")
    if isinstance(exc, ProfileNotFound):
        return f"ProfileNotFound: {exc}; check --profile / AWS_PROFILE (profiles live in ~/.aws/config)"
    if isinstance(exc, NoRegionError):
        return "NoRegion: no AWS region configured; pass --region or set AWS_REGION"
    if isinstance(exc, ConnectTimeoutError | ReadTimeoutError):
        within = f" within {budget}" if budget else " in time"
        return (f"Timeout: {where} did not answer{within}; check the network and AWS_ENDPOINT_URL, "
                "or raise AIOPS_AWS_TIMEOUT")
    if isinstance(exc, EndpointConnectionError):
        return f"EndpointUnreachable: cannot connect to {where}; check the network and AWS_ENDPOINT_URL"
    if isinstance(exc, ResponseParserError):
        return (f"BadResponse: {where} answered with something that is not an AWS response; "
                "check that AWS_ENDPOINT_URL points at AWS or an AWS emulator")
    if isinstance(exc, ParamValidationError):
        return f"InvalidParameter: {exc}"
    if isinstance(exc, ValueError) and "endpoint" in str(exc).lower():  # botocore's "Invalid endpoint: ..."
        return f"InvalidEndpoint: {exc}; set AWS_ENDPOINT_URL to an http(s) URL or unset it"
    if isinstance(exc, BotoCoreError):
        return f"{type(exc).__name__}: {exc}"
    return f"{type(exc).__name__}: {exc}"


def _where(service: str, endpoint: str | None) -> str:
    if not endpoint:
        return f"the {service} endpoint"
    return f"the {service} endpoint {public_url(endpoint)}"


def aws_error_code(exc: BaseException) -> str | None:
    from botocore.exceptions import ClientError

    if isinstance(exc, ClientError):
        return exc.response.get("Error", {}).get("Code")
    return None


def failure_text(exc: BaseException, describe: Callable[[BaseException], str]) -> str:
    """The tool error's sentence for a failure in a tool's work (state.run_aws, and the in-process reads)."""
    if isinstance(exc, ResolutionError):
        return f"UnresolvedInstance: {exc}"
    if isinstance(exc, ValueError):  # our own validation of arguments; domain errors carry their own code
        return f"{getattr(exc, 'code', 'InvalidArgument')}: {exc}"
    return describe(exc)


def describe_for(settings: Settings, exc: BaseException, service: str = "AWS") -> str:
    """`describe_aws_error` with this process's endpoint and time budget; the traceback too under AIOPS_DEBUG."""
    message = describe_aws_error(exc, service, endpoint=settings.aws_endpoint_url,
                                 budget=TimeoutBudget.from_settings(settings).describe())
    if debug_enabled():  # the sentence is for people; the traceback for whoever debugs it
        log.warning("%s", message, exc_info=exc)
    return message
