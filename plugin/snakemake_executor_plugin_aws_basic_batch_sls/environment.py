"""The environment a job gets: Snakemake's envvars() minus anything that looks like a credential.

Snakemake hands storage settings to executors this way, access keys included. In a Batch job they
would sit in plaintext in DescribeJobs and in every state-change event; on AWS jobs use their job role,
and real secrets go through aws_batch_secrets (Secrets Manager / SSM).

Names are judged by whole words (the upper-cased name split on "_"), never substrings, so AUTHOR_NAME,
SESSION_ID, TOKENIZER, KEYBOARD, MONKEY_COUNT, PASSAGE_FILE and BYPASS_CACHE pass. A name is withheld if:
- it is a known credential (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, ...);
- a word starts with SECRET, contains PASSWORD/PASSWD, ends with TOKEN or APIKEY/ACCESSKEY/..., or is
  PASSPHRASE, CREDENTIAL(S), CREDS, DSN, COOKIE(S), PRIVATE, AUTH, AUTHORIZATION or SAS;
- the last word is KEY(S), PASS, PWD or PAT (a lone PWD is the working directory and passes; KEY as a
  first or middle word, as in KEY_COLUMN or KMS_KEY_ID, passes);
- it has ACCESS_KEY, API_KEY, PRIVATE_KEY, ACCOUNT_KEY, SIGNING_KEY, ... or CONNECTION_STRING in it.
Whatever the name, a value is withheld if it holds an AWS key id (AKIA/ASIA...), a PEM private key, a
URL with a password (scheme://user:pass@host), AccountKey=/Password=/SharedAccessSignature= in a
connection string, a GitHub token (ghp_..., github_pat_...), a Slack token (xox?-...) or a JWT (eyJ...).
"""

from __future__ import annotations

import re
from itertools import pairwise

_KNOWN_NAMES = frozenset(
    {
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "AZURE_STORAGE_CONNECTION_STRING",
        "AZURE_STORAGE_KEY",
        "AZURE_STORAGE_SAS_TOKEN",
        "AZURE_CLIENT_SECRET",
        "PGPASSWORD",
        "MYSQL_PWD",
    }
)
# Any word equal to one of these.
_SECRET_WORDS = frozenset(
    {"PASSPHRASE", "CREDENTIAL", "CREDENTIALS", "CREDS", "DSN", "COOKIE", "COOKIES", "PRIVATE"}
    | {"AUTH", "AUTHORIZATION", "SAS"}
)
# Any word ending with one of these (TOKEN itself, ACCESSTOKEN, OPENAIAPIKEY, ...; not TOKENIZER).
_SECRET_SUFFIXES = ("TOKEN", "APIKEY", "APIKEYS", "ACCESSKEY", "ACCOUNTKEY", "PRIVATEKEY", "SECRETKEY")
# The last word (of a name with more than one word, for PWD).
_SECRET_LAST_WORDS = frozenset({"KEY", "KEYS", "PASS", "PWD", "PAT"})
# Words that make a following KEY a credential wherever the pair sits (AWS_ACCESS_KEY_ID).
_KEY_QUALIFIERS = frozenset(
    {"ACCESS", "API", "PRIVATE", "ACCOUNT", "SECRET", "SIGNING", "ENCRYPTION", "MASTER"}
)

# Values that are credentials whatever the variable is called.
_SECRET_VALUE = re.compile(
    r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"  # AWS access key id
    r"|-----BEGIN [A-Z ]*PRIVATE KEY"  # PEM / OpenSSH / PGP private key
    r"|[A-Za-z][A-Za-z0-9+.-]*://[^\s/@:]*:[^\s/@]+@"  # URL with user:password@
    r"|(?:^|[;\s])(?i:AccountKey|Password|Pwd|SharedAccessSignature|SharedAccessKey)\s*=\s*[^;\s]"
    r"|\bgh[pousr]_[A-Za-z0-9]{20,}|\bgithub_pat_[A-Za-z0-9_]{20,}"  # GitHub tokens
    r"|\bxox[abposre]-[A-Za-z0-9-]{10,}"  # Slack tokens
    r"|\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"  # JWT: base64url('{"...') header.payload
)


def _is_secret_name(name: str) -> bool:
    upper = name.upper()
    if upper in _KNOWN_NAMES:
        return True
    words = [word for word in upper.split("_") if word]
    if not words:
        return False
    for word in words:
        if (
            word in _SECRET_WORDS
            or word.startswith("SECRET")
            or "PASSWORD" in word
            or "PASSWD" in word
            or word.endswith(_SECRET_SUFFIXES)
        ):
            return True
    if words[-1] in _SECRET_LAST_WORDS and (len(words) > 1 or words[-1] != "PWD"):
        return True
    for first, second in pairwise(words):
        if (first in _KEY_QUALIFIERS and second == "KEY") or (first, second) == ("CONNECTION", "STRING"):
            return True
    return False


def split_environment(envvars: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """(what the job may see, sorted names withheld)."""
    kept: dict[str, str] = {}
    withheld: list[str] = []
    for name, value in envvars.items():
        if _is_secret_name(name) or _SECRET_VALUE.search(value or ""):
            withheld.append(name)
        else:
            kept[name] = value
    return kept, sorted(withheld)
