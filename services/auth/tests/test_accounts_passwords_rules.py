from auth_service.accounts.passwords import Passwords


def test_hash_is_argon2id_and_verifies():
    passwords = Passwords(time_cost=1, memory_kib=1024, parallelism=1)
    hashed = passwords.hash("correct horse")
    assert hashed.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    assert passwords.verify(hashed, "correct horse") is True
    assert passwords.verify(hashed, "wrong horse") is False


def test_unknown_account_is_verified_against_a_dummy_of_the_same_cost():
    # Same parameters ⇒ the same work for an unknown email as for a wrong password.
    passwords = Passwords(time_cost=2, memory_kib=2048, parallelism=1)
    assert passwords.needs_rehash(passwords._dummy_hash) is False
    assert passwords.verify(None, "not-a-real-password") is False
    assert passwords.verify(None, "anything") is False


def test_garbage_hash_never_verifies():
    passwords = Passwords(time_cost=1, memory_kib=1024, parallelism=1)
    assert passwords.verify("not-a-hash", "x") is False


def test_rehash_needed_when_cost_changes():
    old = Passwords(time_cost=1, memory_kib=1024, parallelism=1).hash("pw")
    assert Passwords(time_cost=2, memory_kib=1024, parallelism=1).needs_rehash(old) is True
