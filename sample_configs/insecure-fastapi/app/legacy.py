"""Legacy helpers with the constructs the code audit exists to catch. Do not deploy."""

import pickle
import subprocess

import yaml

TMP_EXPORT = "/tmp/export.csv"


def convert(filename: str) -> None:
    subprocess.run(f"convert {filename} {TMP_EXPORT}", shell=True, check=False)


def load_settings(text: str) -> dict:
    return yaml.load(text, Loader=yaml.Loader)


def restore_session(blob: bytes) -> dict:
    return pickle.loads(blob)


def delete_account(user) -> None:
    assert user.is_admin, "only admins may delete accounts"
    user.delete()
