"""Fixtures of the whole suite: mmengine default-scope isolation and the demo-data workspaces."""
import copy
from pathlib import Path

import pytest


@pytest.fixture(autouse=True, scope='session')
def session_default_scope():
    """mmengine's default scopes when the session starts (before any fixture runs a Runner)."""
    from mmengine.registry import DefaultScope

    return copy.copy(DefaultScope._instance_dict)


@pytest.fixture(autouse=True)
def isolated_default_scope(session_default_scope):
    """mmengine's default scope is process-wide: a test or a module / session fixture that sets it (a Runner,
    ``init_default_scope``) would decide where the registry look-ups of every later test go. Each test starts and
    ends with the session's initial scope state, restored the way mmengine's ``DefaultScope.overwrite_default_scope``
    restores it; fixtures of wider scope set up before this one, so their scopes are dropped too."""
    from mmengine.registry import DefaultScope

    DefaultScope._instance_dict = copy.copy(session_default_scope)
    yield
    DefaultScope._instance_dict = copy.copy(session_default_scope)


@pytest.fixture(scope='session')
def det_workspace(tmp_path_factory) -> Path:
    """A folder with a small LT-Shapes at data/lt_shapes, where the demo config's relative data_root resolves."""
    from ltmm.demo.lt_shapes import make_lt_shapes

    root = tmp_path_factory.mktemp('det')
    make_lt_shapes(str(root / 'data' / 'lt_shapes'), num_train_images=32, num_val_images=8, max_images=6,
                   imbalance_factor=3)
    return root


@pytest.fixture(scope='session')
def cls_workspace(tmp_path_factory) -> Path:
    """A folder with Digits-LT at data/digits_lt."""
    from ltmm.demo.digits_lt import make_digits_lt

    root = tmp_path_factory.mktemp('cls')
    make_digits_lt(str(root / 'data' / 'digits_lt'))
    return root
