"""Development tooling: local chains, the Solidity compiler, deployments and the pytest plugin.

Nothing a deployed pipeline or service runs imports this package: it starts processes (anvil), compiles
(py-solc-x) and deploys.

- :mod:`.devnet` — :class:`Devnet`, an anvil process with funded dev accounts, snapshots and state files;
- :mod:`.story_devnet` — the local Story Protocol suite, at fresh or at Story's own addresses;
- :mod:`.compiler` — ``contracts/*.sol`` -> ``chain/artifacts/*.json`` (``make compile``);
- :mod:`.deploy` / :mod:`.deploy_plan` — idempotent deployments recorded in a deployment manifest;
- :mod:`.pytest_plugin` — the ``devnet`` and ``fresh_chain`` fixtures (registered as a ``pytest11`` plugin).
"""

from .deploy import DeployContext, DeploymentResult, PlannedContract, RoleGrant, deploy_all, ensure_deployed
from .deploy_plan import DEPLOY_PLAN
from .devnet import DevAccount, Devnet, find_anvil, free_port
from .story_devnet import (
    STORY_COMPAT_CHAIN_ID,
    STORY_DEPLOY_PLAN,
    deploy_story_suite,
    place_story_suite,
    place_story_suite_on_devnet,
    start_story_devnet,
    story_artifact_names,
)

__all__ = [
    "DEPLOY_PLAN",
    "STORY_COMPAT_CHAIN_ID",
    "STORY_DEPLOY_PLAN",
    "DeployContext",
    "DeploymentResult",
    "DevAccount",
    "Devnet",
    "PlannedContract",
    "RoleGrant",
    "deploy_all",
    "deploy_story_suite",
    "ensure_deployed",
    "find_anvil",
    "free_port",
    "place_story_suite",
    "place_story_suite_on_devnet",
    "start_story_devnet",
    "story_artifact_names",
]
