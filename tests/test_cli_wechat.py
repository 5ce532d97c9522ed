"""`jimu shop wechat set|show|clear` and `jimu secrets rotate|generate-key`."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from adapters.db import Database
from adapters.wechat_accounts.rules import open_sealed
from adapters.wechat_accounts.secret_box import SecretBox, new_key
from gateway.cli_secrets import refuse_unsealable
from gateway.settings import Settings, SettingsError
from gateway.wiring import sql_adapters
from tests.test_cli import env, jimu  # noqa: F401 - env is a fixture
from tests.unit.test_wechat_pay import pem_private, pem_public

OLD, NEW = new_key(), new_key()


@pytest.fixture(scope="module")
def key_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("wechat-keys")
    merchant, platform = rsa.generate_private_key(65537, 2048), rsa.generate_private_key(65537, 2048)
    files = {"private": folder / "merchant.pem", "platform": folder / "platform.pem",
             "api_v3": folder / "api-v3.key", "secret": folder / "app-secret.txt"}
    files["private"].write_bytes(pem_private(merchant))
    files["platform"].write_bytes(pem_public(platform))
    files["api_v3"].write_text("0123456789abcdef0123456789abcdef\n")
    files["secret"].write_text("the-app-secret-9\n")
    return files


async def stored(database_url: str, handle: str):
    adapters = sql_adapters(Settings(database_url=database_url))
    try:
        [shop] = await adapters.shops.shops_by_handle([handle])
        assert shop is not None
        [account] = await adapters.wechat.accounts.accounts_of([shop.id])
        return account
    finally:
        await adapters.close()


async def test_credentials_are_set_shown_masked_rotated_and_cleared(env, database_url: str, key_files):  # noqa: F811
    # given a shop and a key
    await jimu("shop", "create", "wx-brand", "--name", "WX", env=env)
    old_env = {**env, "JIMU_SECRET_KEY": OLD}
    # when its mini-program and merchant are set
    done = await jimu("shop", "wechat", "set", "wx-brand", "--app-id", "wxbrand00000001",
                      "--app-secret-file", str(key_files["secret"]), "--mch-id", "1900000101", "--serial-no", "ABC123",
                      "--private-key-file", str(key_files["private"]), "--platform-key-file", str(key_files["platform"]),
                      "--api-v3-key-file", str(key_files["api_v3"]), env=old_env)
    # then they are stored sealed, and nothing secret is printed
    assert done.exit_code == 0, done.output
    account = await stored(database_url, "wx-brand")
    assert account is not None and account.app_id == "wxbrand00000001" and "the-app-secret" not in str(account)
    opened = open_sealed(account, SecretBox([OLD]))
    assert opened.app is not None and opened.app.app_secret == "the-app-secret-9"
    shown = await jimu("shop", "wechat", "show", "wx-brand", env=old_env)
    assert shown.exit_code == 0 and "app id wxbrand00000001, app secret set" in shown.output
    assert "merchant 1900000101" in shown.output
    for secret in ("the-app-secret-9", "0123456789abcdef", "PRIVATE KEY"):
        assert secret not in done.output + shown.output

    # when shown with a key that does not open them: a clear error, exit 1
    wrong = await jimu("shop", "wechat", "show", "wx-brand", env={**env, "JIMU_SECRET_KEY": NEW})
    assert wrong.exit_code == 1 and "cannot be opened" in wrong.output

    # when rotated to the new key, then the old key can be dropped
    rotated = await jimu("secrets", "rotate", env={**env, "JIMU_SECRET_KEY": f"{NEW},{OLD}"})
    assert rotated.exit_code == 0 and "3 secret(s) of 1 shop(s)" in rotated.output
    assert (await jimu("shop", "wechat", "show", "wx-brand", env={**env, "JIMU_SECRET_KEY": NEW})).exit_code == 0
    assert (await jimu("shop", "wechat", "show", "wx-brand", env=old_env)).exit_code == 1
    # and rotating with keys that open nothing changes nothing
    refused = await jimu("secrets", "rotate", env={**env, "JIMU_SECRET_KEY": new_key()})
    assert refused.exit_code == 1 and "nothing was rotated" in refused.output
    assert (await jimu("shop", "wechat", "show", "wx-brand", env={**env, "JIMU_SECRET_KEY": NEW})).exit_code == 0

    # when only a sub-merchant is set, then the mini-program is kept
    sub = await jimu("shop", "wechat", "set", "wx-brand", "--sub-mch-id", "1900000999", env={**env, "JIMU_SECRET_KEY": NEW})
    assert sub.exit_code == 0 and "sub-merchant 1900000999" in sub.output and "app id wxbrand00000001" in sub.output
    # production will not serve secrets it could not open
    db = Database(database_url)
    try:
        with pytest.raises(SettingsError, match="JIMU_SECRET_KEY"):
            await refuse_unsealable(Settings(database_url=database_url, env="production"), db)
        await refuse_unsealable(Settings(database_url=database_url, env="production", secret_keys=(NEW,)), db)
    finally:
        await db.dispose()
    # when cleared
    cleared = await jimu("shop", "wechat", "clear", "wx-brand", env=env)
    assert cleared.exit_code == 0 and "cleared" in cleared.output
    assert await stored(database_url, "wx-brand") is None


@pytest.mark.parametrize("args, code, said", [
    (["--app-id", "wxbrand00000001"], 2, "go together"),
    (["--app-id", "wx app", "--app-secret", "s"], 2, "app_id"),
    (["--mch-id", "1900000101"], 2, "also needs --serial-no"),
    (["--sub-mch-id", "12", "--mch-id", "1"], 2, "also needs"),
    (["--sub-app-id", "wx1"], 2, "goes with --sub-mch-id"),
    ([], 2, "give --app-id"),
])
async def test_bad_credentials_are_refused_with_what_is_wrong(env, args, code, said):  # noqa: F811
    await jimu("shop", "create", "wx-bad", "--name", "WX", env=env)
    refused = await jimu("shop", "wechat", "set", "wx-bad", *args, env={**env, "JIMU_SECRET_KEY": OLD})
    assert refused.exit_code == code and said in refused.output, refused.output


async def test_without_a_secret_key_or_a_shop_nothing_is_stored(env, database_url: str):  # noqa: F811
    await jimu("shop", "create", "wx-nokey", "--name", "WX", env=env)
    no_key = await jimu("shop", "wechat", "set", "wx-nokey", "--app-id", "wx1", "--app-secret", "s", env=env)
    assert no_key.exit_code == 2 and "JIMU_SECRET_KEY" in no_key.output
    assert await stored(database_url, "wx-nokey") is None
    missing = await jimu("shop", "wechat", "show", "no-such-shop", env=env)
    assert missing.exit_code == 1 and "no shop 'no-such-shop'" in missing.output
    generated = await jimu("secrets", "generate-key", env=env)
    assert generated.exit_code == 0 and SecretBox([generated.output.strip()]).ready
