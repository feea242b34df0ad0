"""Which caller owns a request: one test per kind of IAM caller API Gateway reports, as the
docs/service.md's table says (an IAM user, a role session, a federated user, root, anonymous)."""

import pytest

from codegen.http.events import ANONYMOUS, parse_event
from tests.unit.function.helpers import (
    ACCOUNT,
    federated_user,
    iam_user,
    job_event,
    role_session,
    root,
)


def owner(identity) -> str:
    return parse_event(job_event("x", caller=identity)).caller


def test_an_iam_user_is_owned_by_its_unique_id():
    assert owner(iam_user("alice", "AIDAALICE00000000001")) == f"{ACCOUNT}:AIDAALICE00000000001"


def test_every_session_of_a_role_is_the_role():
    assert owner(role_session("builder", "AROABUILDER000000001", "ci-1")) == (
        f"{ACCOUNT}:AROABUILDER000000001"
    )


def test_federated_users_are_each_their_own_caller_and_never_root():
    alice, bob = owner(federated_user("alice")), owner(federated_user("bob"))
    assert alice == f"{ACCOUNT}:federated-user/alice"
    assert bob == f"{ACCOUNT}:federated-user/bob"
    assert len({alice, bob, owner(root())}) == 3


def test_root_is_owned_by_its_account():
    assert owner(root()) == f"{ACCOUNT}:{ACCOUNT}"


def test_a_route_without_authorization_has_one_anonymous_caller():
    assert owner(None) == ANONYMOUS


def test_a_federated_arn_of_another_account_is_not_taken_at_its_word():
    forged = {**federated_user("alice"), "userArn": "arn:aws:sts::999999999999:federated-user/x"}
    # The account API Gateway verified wins; the id rule applies as for any other caller.
    assert owner(forged) == f"{ACCOUNT}:{ACCOUNT}"


@pytest.mark.parametrize("name", ["a+b=c,d.e@f-g_h", "x" * 32])
def test_federated_names_of_every_allowed_character_are_kept_whole(name):
    assert owner(federated_user(name)) == f"{ACCOUNT}:federated-user/{name}"
