"""Detectors hardcheck adds to detect-secrets for token formats its 1.5 release misses.

detect-secrets loads this file by path (a `file://` plugin), so it imports nothing from
hardcheck. Class names must not clash with detect-secrets' own.
"""

import re

from detect_secrets.plugins.base import RegexBasedDetector


class StripeAnyKeyDetector(RegexBasedDetector):
    """Secret and restricted keys, live and test (detect-secrets: live only, 24 chars)."""

    secret_type = "Stripe Secret or Restricted Key"
    denylist = (re.compile(r"\b((?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,247})\b"),)


class GoogleApiKeyDetector(RegexBasedDetector):
    secret_type = "Google API Key"
    denylist = (re.compile(r"\b(AIza[0-9A-Za-z_\-]{35})(?![0-9A-Za-z_\-])"),)


class OpenAIProjectKeyDetector(RegexBasedDetector):
    """`sk-proj-…`, `sk-svcacct-…`, `sk-admin-…` (detect-secrets knows only the T3BlbkFJ form)."""

    secret_type = "OpenAI Project Key"
    denylist = (re.compile(r"\b(sk-(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{20,})"),)


class GitHubFineGrainedTokenDetector(RegexBasedDetector):
    secret_type = "GitHub Fine-grained Token"
    denylist = (re.compile(r"\b(github_pat_[0-9A-Za-z_]{22,255})\b"),)


class AccessTokenAssignmentDetector(RegexBasedDetector):
    """`access_token = "…"`, `"accessToken": "…"`, `ACCESS_TOKEN=…`; not a call's result."""

    secret_type = "Access Token Assignment"
    denylist = (
        re.compile(
            r"""(?i)\baccess[_-]?token\b["']?\s*[:=]\s*["']?([A-Za-z0-9._~+/\-]{16,}={0,2})"""
            # not a call: `access_token=security.create_access_token(user.id)`
            r"""(?![A-Za-z0-9._~+/\-]*\()"""
        ),
    )
