"""Development tooling: local chains, the Solidity compiler, deployments and the pytest plugin.

Nothing a deployed pipeline or service runs imports this package: it starts processes (anvil), compiles
(py-solc-x) and deploys.

- :mod:`.dev_node` — :class:`DevNode`, what every development node offers (RPC URL, funded accounts, snapshots);
  :class:`ExternalNode` for one started elsewhere (``ANACOSTIA_TEST_RPC_URL``);
- :mod:`.devnet` — :class:`Devnet`, an anvil process with funded dev accounts, snapshots and state files;
- :mod:`.js_nodes` — :class:`HardhatNode` (Hardhat Network 2) and :class:`GanacheNode` (Ganache 7) from npm;
- :mod:`.node_control` — :class:`NodeControl`: set code / balance, mine, automine, snapshots on each kind of node;
- :mod:`.placement` — contracts at canonical addresses (set-code method or a CREATE2 deployer);
- :mod:`.story_devnet` — the local Story Protocol suite, at fresh or at Story's own addresses;
- :mod:`.compiler` — ``contracts/*.sol`` -> ``chain/artifacts/*.json`` (``make compile``);
- :mod:`.deploy` / :mod:`.deploy_plan` — idempotent deployments recorded in a deployment manifest;
- :mod:`.pytest_plugin` — the ``devnet`` and ``fresh_chain`` fixtures (registered as a ``pytest11`` plugin).
"""

from .deploy import DeployContext, DeploymentResult, PlannedContract, RoleGrant, Suite, deploy_all, ensure_deployed
from .deploy_plan import DEPLOY_PLAN
from .dev_node import DEV_MNEMONIC, DevAccount, DevNode, ExternalNode, ProcessNode, dev_accounts, free_port
from .devnet import Devnet, find_anvil
from .js_nodes import GanacheNode, HardhatNode
from .node_control import NodeControl
from .placement import CREATE2_DEPLOYER, create2_address, place_contract, set_code_at
from .story_devnet import (
    STORY_COMPAT_CHAIN_ID,
    STORY_DEPLOY_PLAN,
    STORY_SUITE,
    deploy_story_suite,
    place_story_suite,
    place_story_suite_on_devnet,
    start_story_devnet,
    story_artifact_names,
)

__all__ = [
    "CREATE2_DEPLOYER",
    "DEPLOY_PLAN",
    "DEV_MNEMONIC",
    "STORY_COMPAT_CHAIN_ID",
    "STORY_DEPLOY_PLAN",
    "STORY_SUITE",
    "DeployContext",
    "DeploymentResult",
    "DevAccount",
    "DevNode",
    "Devnet",
    "ExternalNode",
    "GanacheNode",
    "HardhatNode",
    "NodeControl",
    "PlannedContract",
    "ProcessNode",
    "RoleGrant",
    "Suite",
    "create2_address",
    "deploy_all",
    "deploy_story_suite",
    "dev_accounts",
    "ensure_deployed",
    "find_anvil",
    "free_port",
    "place_contract",
    "place_story_suite",
    "place_story_suite_on_devnet",
    "set_code_at",
    "start_story_devnet",
    "story_artifact_names",
]
