"""Secrets never reach a signed record: key names, provlineage's own shapes and detect-secrets, over every value.

The corpus holds secret shapes found in ML jobs (the ones issue #11 reproduced, and more).  The end-to-end test
puts each of them through ``track()`` the ways a job would (hyperparameters, nested and in argument lists,
metrics labels, an exception message and stack trace, an allow-listed variable, a git remote) into a real signed
log, and then looks for each secret in every byte provlineage wrote.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from openlineage.client.client import OpenLineageClient

import provlineage
from provlineage.environment import collect_environment
from provlineage.hyperparameters import hyperparameters_facet
from provlineage.keys import Keyring
from provlineage.redaction import redact, redact_text, secret_matcher
from provlineage.transport import SigningConfig, SigningTransport
from provlineage.verification import verify_files

#: name -> (value as a job would hold it, the secret part that must never be recorded)
CORPUS: dict[str, tuple[str, str]] = {
    "postgres_url": ("postgresql://app:Sup3rS3cretPw@db.internal:5432/prod", "Sup3rS3cretPw"),
    "postgres_url_short": ("postgresql://user:pw9x@host/db", "pw9x"),
    "mongo_srv": ("mongodb+srv://svc:M0ng0Pw9z@cluster0.abcde.mongodb.net/db?retryWrites=true", "M0ng0Pw9z"),
    "redis_no_user": ("redis://:R3disPw77@cache:6379/0", "R3disPw77"),
    "jdbc_query": ("jdbc:postgresql://db:5432/prod?user=app&password=Hunt3rJdbc", "Hunt3rJdbc"),
    "jdbc_sqlserver": ("jdbc:sqlserver://db:1433;databaseName=prod;user=app;password=Hunt3rSql;", "Hunt3rSql"),
    "ado_net": ("Server=tcp:db,1433;Database=prod;User ID=app;Password=Hunt3rAdo;Encrypt=true", "Hunt3rAdo"),
    "dsn_schemeless": ("app:Pr0dPw55@db:5432/prod", "Pr0dPw55"),
    "bearer_jwt": (
        "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    ),
    "bearer_opaque": ("Authorization: Bearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0", "9f8e7d6c5b4a39281706f5e4d3c2b1a0"),
    "basic_auth": ("Authorization: Basic YWxhZGRpbjpvcGVuc2VzYW1l", "YWxhZGRpbjpvcGVuc2VzYW1l"),
    "slack_webhook": (
        "https://hooks.slack.com/services/T0ABCDEF1/B0ABCDEF2/abcdefghijklmnopqrstuvwx",
        "abcdefghijklmnopqrstuvwx",
    ),
    "slack_bot_token": ("xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "AbCdEfGhIjKlMnOpQrStUvWx"),
    "azure_sas": (
        "https://acct.blob.core.windows.net/c/b.csv?sv=2022-11-02&sp=r&se=2026-12-01T00:00:00Z"
        "&sig=AbCdEf0123456789AbCdEf0123456789AbCdEf01234%3D",
        "AbCdEf0123456789AbCdEf0123456789AbCdEf01234",
    ),
    "azure_connection_string": (
        "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=" + "Zm9vYmFyYmF6cXV4" * 5 + "AbCdEf==;",
        "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4",
    ),
    "aws_secret_key": ("wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY", "bPxRfiCYzEXAMPLEKEY"),
    "aws_access_key_id": ("AKIAIOSFODNN7EXAMPL3", "AKIAIOSFODNN7EXAMPL3"),
    "github_pat": ("ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789", "aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"),
    "github_fine_grained": ("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuv", "abcdefghijklmnopqrstuv"),
    "gitlab_pat": ("glpat-AbCdEfGhIjKlMnOpQrSt", "AbCdEfGhIjKlMnOpQrSt"),
    "openai_key": ("sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefGHIJ", "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"),
    "anthropic_key": ("sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz012345", "AbCdEfGhIjKlMnOpQrStUvWxYz012345"),
    "stripe_live": ("sk_live_51AbCdEfGhIjKlMnOpQrStUv", "51AbCdEfGhIjKlMnOpQrStUv"),
    "google_api_key": ("AIzaSyA-abcdefghijklmnopqrstuvwxyz01234", "SyA-abcdefghijklmnopqrstuvwxyz01234"),
    "huggingface": ("hf_AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh", "AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh"),
    "sendgrid": (
        "SG.abcdefghijklmnopqrstuv.abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ",
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ",
    ),
    "npm_token": ("npm_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"),
    "pem_private_key": (
        "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----",
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7",
    ),
    "git_token_in_query": (
        "https://github.com/org/repo.git?access_token=ghs_AbCdEf0123456789AbCdEf0123456789ab",
        "AbCdEf0123456789AbCdEf0123456789ab",
    ),
    "git_token_as_user": ("https://ghs_AbCdEf0123456789ZyXw@github.com/org/repo.git", "AbCdEf0123456789ZyXw"),
    "key_value_in_text": ("connecting with api_key=Zx9Yw8Vu7Ts6Rq5Po4Nm", "Zx9Yw8Vu7Ts6Rq5Po4Nm"),
    "argv_inline": ("--db-password=Hunt3rArgv", "Hunt3rArgv"),
    "argv_in_command_line": ("python train.py --password Hunt3rCmd --epochs 3", "Hunt3rCmd"),
    "python_dict_repr": ("{'user': 'app', 'password': 'Hunt3rRepr'}", "Hunt3rRepr"),
}

#: Values ML jobs log that must stay readable.
BENIGN = [
    "adam",
    "relu",
    "/data/train.csv",
    "s3://bucket/key/part-0001.parquet",
    "sha256:" + "ab" * 32,
    "0123456789abcdef0123456789abcdef01234567",
    "a3f9c2e1-5b7d-4e8a-9c0f-1d2e3f4a5b6c",
    "https://github.com/org/repo.git",
    "git@github.com:org/repo.git",
    "ssh://git@github.com/org/repo",
    "postgresql://db.internal:5432/prod",
    "2026-11-30T07:00:00+00:00",
    "en_US.UTF-8",
    "/models/Churn/v2/ResNet50FinalCheckpointEpoch10",
    "DistilBertForSequenceClassification",
    "tokenizer=bert-base-uncased",
    "Basic usage of the model",
]


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_each_secret_shape_is_masked_in_a_string(name: str) -> None:
    value, secret = CORPUS[name]
    cleaned, changed = redact_text(value)
    assert changed and secret not in cleaned and "***" in cleaned, cleaned


@pytest.mark.parametrize("value", BENIGN)
def test_ordinary_values_stay_as_they_are(value: str) -> None:
    assert redact_text(value) == (value, False)


def test_only_the_secret_part_of_a_url_or_dsn_is_masked() -> None:
    assert redact_text(CORPUS["postgres_url"][0])[0] == "postgresql://app:***@db.internal:5432/prod"
    assert redact_text(CORPUS["dsn_schemeless"][0])[0] == "app:***@db:5432/prod"
    assert redact_text(CORPUS["jdbc_query"][0])[0] == "jdbc:postgresql://db:5432/prod?user=app&password=***"
    assert redact_text(CORPUS["git_token_in_query"][0])[0] == "https://github.com/org/repo.git?access_token=***"


SECRET_KEYS = "pwd db_pw db_pass openai_key stripe-key DB_PASSWORD passphrase access_token id_token auth_token"
SECRET_KEYS += " aws_secret_access_key ssh_key session_id cookie conn_uri sas_token dsn"
ML_KEYS = "max_tokens tokenizer num_tokens pad_token eos_token bos_token_id special_tokens author num_passes"
ML_KEYS += " bypass_cache sort_key primary_key image_key text_key key monkey learning_rate"


@pytest.mark.parametrize("key", SECRET_KEYS.split())
def test_secret_key_names(key: str) -> None:
    assert secret_matcher().search(key)


@pytest.mark.parametrize("key", ML_KEYS.split())
def test_ml_names_that_are_not_secrets(key: str) -> None:
    assert not secret_matcher().search(key)


def test_key_names_the_old_pattern_missed_and_names_that_are_not_secrets() -> None:
    cleaned, paths = redact(
        {
            "pwd": "x1",
            "db_pw": "x2",
            "openai_key": "x3",
            "DB_PASSWORD": 7,
            "sort_key": "name",
            "max_tokens": 512,
            "tokenizer": "bert",
            "author": "ann",
        }
    )
    assert cleaned == {
        "pwd": "***",
        "db_pw": "***",
        "openai_key": "***",
        "DB_PASSWORD": "***",
        "sort_key": "name",
        "max_tokens": 512,
        "tokenizer": "bert",
        "author": "ann",
    }
    assert sorted(paths) == ["DB_PASSWORD", "db_pw", "openai_key", "pwd"]


def test_argument_lists_lose_the_value_after_a_secret_flag() -> None:
    cleaned, paths = redact({"argv": ["train.py", "--password", "Hunt3r", "--lr", "0.1", "--api-key", 12345]})
    assert cleaned["argv"] == ["train.py", "--password", "***", "--lr", "0.1", "--api-key", "***"]
    assert paths == ["argv[2]", "argv[6]"]


def test_hyperparameters_facet_lists_value_redactions_with_key_redactions() -> None:
    facet = hyperparameters_facet({"db": {"url": CORPUS["postgres_url"][0]}, "secret": "s", "lr": 0.1})
    assert facet.parameters == {"db": {"url": "postgresql://app:***@db.internal:5432/prod"}, "secret": "***", "lr": 0.1}
    assert facet.redactedKeys == ["db.url", "secret"]


def _git_repository(path: Path, remote: str) -> Path:
    path.mkdir()
    for args in (
        ["init", "-q"],
        ["-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q", "--allow-empty", "-m", "c"],
        ["remote", "add", "origin", remote],
    ):
        subprocess.run(["git", *args], cwd=path, check=True)
    return path


def _secrets_in(blobs: dict[str, bytes]) -> list[str]:
    """Which corpus secrets appear in the files, in clear or JSON-escaped."""
    leaks = []
    for name, (_value, secret) in CORPUS.items():
        spellings = {secret.encode(), json.dumps(secret)[1:-1].encode()}
        leaks += [f"{name} in {file}" for file, blob in blobs.items() for s in spellings if s in blob]
    return leaks


def test_no_secret_of_the_corpus_reaches_the_signed_log_of_a_failed_track_run(
    tmp_path: Path, key_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROVLINEAGE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("APP_DATABASE", CORPUS["dsn_schemeless"][0])
    monkeypatch.setenv("PROVLINEAGE_ENV_ALLOWLIST", "APP_DATABASE")
    repo = _git_repository(tmp_path / "repo", CORPUS["git_token_in_query"][0])
    entry = repo / "train.py"
    entry.write_text("print('train')\n")
    log = tmp_path / "lineage.jsonl"
    transport = SigningTransport(
        SigningConfig.from_dict(
            {
                "private_key": str(key_dir / "private_key.pem"),
                "state_dir": str(tmp_path / "state"),
                "transport": {"type": "provlineage.transport.FileLogTransport", "path": str(log)},
            }
        )
    )
    environment = collect_environment(entry_file=str(entry), refresh=True)
    monkeypatch.setattr("provlineage.environment.collect_environment", lambda **_: environment)
    values = {name: value for name, (value, _secret) in CORPUS.items()}
    client = OpenLineageClient(transport=transport)
    with pytest.raises(ConnectionError), provlineage.track("leaky.train", kind="training", client=client) as run:
        run.log_hyperparameters({"plain": values, "nested": {"list": list(values.values())}})
        run.log_hyperparameters({"argv": ["--password", "Hunt3rList", "--token", "T0kenList9"]})
        run.log_hyperparameters({"pwd": "PwdValue1", "db_pw": "DbPwValue2", "openai_key": "OpenAiValue3"})
        run.log_metrics({"auc": 0.91, "source": CORPUS["postgres_url"][0], "endpoint": CORPUS["slack_webhook"][0]})
        run.log_metrics({"f1": 0.8, "label": CORPUS["github_pat"][0]}, dataset=tmp_path / "holdout.csv")
        run.log_metrics({f"auc on {CORPUS['redis_no_user'][0]}": 0.7})  # a secret in a metric's name
        raise ConnectionError(f"could not connect to {CORPUS['postgres_url'][0]} with {values['aws_secret_key']}")
    transport.close()

    blobs = {p.name: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and "repo" not in p.parts}
    assert log.name in blobs
    extra = {"PwdValue1", "DbPwValue2", "OpenAiValue3", "Hunt3rList", "T0kenList9"}
    leaks = _secrets_in(blobs) + [f"{s} in {f}" for s in extra for f, b in blobs.items() if s.encode() in b]
    assert leaks == []

    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert [e["eventType"] for e in events] == ["START", "FAIL"]
    facets = events[-1]["run"]["facets"]
    assert "postgresql://app:***@db.internal:5432/prod" in facets["errorMessage"]["message"]
    assert {"errorMessage.message", "errorMessage.stackTrace"} <= set(facets["provlineage_redactions"]["paths"])
    assert "provlineage_metrics.metrics.source" in facets["provlineage_redactions"]["paths"]
    assert {"plain.postgres_url", "nested.list[0]", "pwd", "argv[1]", "argv[3]"} <= set(
        facets["provlineage_hyperparameters"]["redactedKeys"]
    )
    assert facets["provlineage_environment"]["environmentVariables"]["APP_DATABASE"].endswith("db:5432/prod")
    assert facets["provlineage_environment"]["git"]["remoteUrl"].startswith("https://github.com/org/repo.git")
    report = verify_files([log], Keyring.from_files([key_dir / "public_key.pem"]))
    assert report.ok, report.to_json()


def test_detection_is_cached_per_value(monkeypatch: pytest.MonkeyPatch) -> None:
    from provlineage.redaction import library

    calls: list[str] = []
    original = library.library_spans

    def counting(text: str) -> Any:
        calls.append(text)
        return original(text)

    monkeypatch.setattr("provlineage.redaction.text.library_spans", counting)
    value = "a value long enough for the library: Zq8Xw7Vu6Ts5Rq4Po3Nm2Lk1"
    assert redact_text(value) == redact_text(value)
    assert calls.count(value) <= 1


def test_an_allow_listed_variable_keeps_no_token_of_any_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    from provlineage.environment.host import environment_variables

    monkeypatch.setenv("APP_HOOK", CORPUS["slack_webhook"][0])
    monkeypatch.setenv("APP_OPTS", CORPUS["argv_in_command_line"][0])
    monkeypatch.setenv("APP_DSN", CORPUS["dsn_schemeless"][0])
    recorded = environment_variables(("APP_HOOK", "APP_OPTS", "APP_DSN"))
    assert _secrets_in({"env": json.dumps(recorded).encode()}) == []
    assert recorded["APP_OPTS"] == "python train.py --password *** --epochs 3"


def test_a_secret_in_a_key_is_masked_in_the_key_and_in_the_listed_path() -> None:
    cleaned, paths = redact({"by_source": {CORPUS["postgres_url"][0]: 0.91, "holdout": 0.88}})
    masked = "postgresql://app:***@db.internal:5432/prod"
    assert cleaned == {"by_source": {masked: 0.91, "holdout": 0.88}}
    assert paths == [f"by_source.{masked}"]
