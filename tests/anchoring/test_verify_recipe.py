"""docs/verifying.md's recipe, followed with standard tools and nothing of this package (peers/verify_run.mjs).

The script gets only what an outsider has: the RPC URL, the registry address, the pipeline name, the run id, and the
manifest as an IPFS CAR (what ``ipfs dag export`` or a trustless gateway's ``?format=car`` returns). With viem,
@ipld/car and @openzeppelin/merkle-tree it reads ``runRoot`` and the ``RunAnchored`` CID, re-hashes every block,
rebuilds every leaf from the docs' encodings and the root with ``SimpleMerkleTree``, and has the contract prove a
metric. Covered: every leaf kind a real run records (run, node, metric, param, tag, artifact, lineage), a one-block
and a multi-block manifest, format 1 anchors, a CAR of another run, and a run that is not anchored.
"""

from __future__ import annotations

import json
import shutil
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from eth_utils import keccak

from anacostia_blockchain.anchoring import ManifestArchive
from anacostia_blockchain.chain import LocalSigner
from anacostia_blockchain.cli.main import main
from anacostia_blockchain.engine import ExecutionContext, NodeStatus, RunStatus
from anacostia_blockchain.ipfs import EmbeddedBlockstore
from anacostia_blockchain.metadata import BlockchainMetadataStore

from .conftest import RegistryEnv
from .node_peers import hx, run_node
from .store_helpers import PIPELINE, make_store, produce_run
from .test_format1_manifests import FIXTURE as FORMAT1_DB
from .test_format1_manifests import PIPELINE as FORMAT1_PIPELINE


@dataclass
class Published:
    store: BlockchainMetadataStore
    blocks: EmbeddedBlockstore
    env: RegistryEnv
    tmp: Path

    def car(self, run_id: int, store: BlockchainMetadataStore | None = None) -> Path:
        """The run's manifest as a CAR file, exported from the blockstore the store published it to."""
        anchoring = (store or self.store).anchoring
        stored = anchoring.archive.load(anchoring.pipeline_id, run_id)
        assert stored is not None
        path = self.tmp / f"{anchoring.pipeline}-{run_id}.car"
        self.blocks.export_car(stored.cid, path)
        return path

    def recipe(self, run_id: int, car: Path, *extra: str, pipeline: str = PIPELINE) -> tuple[int, dict[str, object]]:
        done = run_node(
            "verify_run.mjs",
            *("--rpc", self.env.devnet.rpc_url, "--registry", self.env.registry.address),
            *("--pipeline", pipeline, "--run", str(run_id), "--car", str(car), *extra),
        )
        return done.returncode, (json.loads(done.stdout) if done.stdout else {"stderr": done.stderr})

    def cli_json(self, run_id: int, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
        db = self.store.runs.url
        assert (
            main(
                [
                    "verify",
                    str(run_id),
                    "--json",
                    "--db",
                    db,
                    "--pipeline",
                    PIPELINE,
                    "--rpc-url",
                    self.env.devnet.rpc_url,
                    "--registry",
                    self.env.registry.address,
                ]
            )
            == 0
        )
        doc: dict[str, object] = json.loads(capsys.readouterr().out)
        return doc


def _rich_run(store: BlockchainMetadataStore) -> int:
    """A run with a node result, a produced artifact (with a CID) and its lineage edge, metrics, a param and a tag."""
    runs = store.runs
    run_id = runs.begin_run("recipe", [])
    context = ExecutionContext(run_id=run_id, node_name="train")
    runs.record_node_result(run_id, "train", NodeStatus.SUCCESS, "sha256:" + "ab" * 32)
    runs.record_artifact("models", "model.pkl", "cd" * 32, 1234, cid="bafkreid" + "a" * 51, produced=context)
    runs.log_batch(
        context,
        metrics=[("acc", 0.5 + step / 100, step) for step in range(8)],
        params={"lr": 0.01},
        tags={"owner": "recipe"},
    )
    runs.end_run(run_id, RunStatus.SUCCESS)
    store.on_run_end(run_id, RunStatus.SUCCESS)
    return run_id


@pytest.fixture
def published(registry_env: RegistryEnv, tmp_path: Path) -> Iterator[Published]:
    """Run 1: every leaf kind, one raw block; run 2: 3,000 metrics, a multi-block UnixFS file; run 3: pending."""
    blocks = EmbeddedBlockstore(tmp_path / "ipfs", fsync=False)
    store = make_store(
        tmp_path / "metadata.db",
        registry_env.devnet.accounts[0].private_key,
        registry_env.registry.address,
        client=registry_env.client,
        content_store=blocks,
    )
    try:
        _rich_run(store)
        produce_run(store, 3000)
        assert store.flush_anchors()
        produce_run(store, 4)
        yield Published(store, blocks, registry_env, tmp_path)
    finally:
        store.on_stop()
        store.close_store()


def test_the_recipe_rebuilds_the_anchored_root_and_the_contract_proves_a_metric(
    published: Published, capsys: pytest.CaptureFixture[str]
) -> None:
    for run_id, kinds in ((1, {"run", "node", "metric", "param", "tag", "artifact", "lineage"}), (2, None)):
        code, report = published.recipe(run_id, published.car(run_id), "--item", "metric:acc@3")
        assert code == 0, report
        assert report["verified"] is True and report["manifestVersion"] == 2
        assert report["rebuiltRoot"] == report["anchoredRoot"]
        item = report["item"]
        assert isinstance(item, dict) and item["checks"] == {"verifyProof": True, "verifyMetric": True}
        # the outsider's leaves, root and CID are exactly what `anacostia-chain verify --json` reports
        cli = published.cli_json(run_id, capsys)
        assert (cli["root"], cli["manifestCid"], cli["leaves"]) == (
            report["anchoredRoot"],
            report["manifestCid"],
            report["leaves"],
        )
        if kinds is not None:
            manifest = published.store.anchoring.verifier.stored(run_id).manifest()
            assert {i.kind for i in manifest.items} == kinds
    # one manifest is a single raw block, the other a chunked UnixFS file: both read paths were taken
    cids = [published.store.anchoring.verifier.stored(r).cid for r in (1, 2)]
    assert cids[0].startswith("bafkrei") and cids[1].startswith("bafybei")


def test_the_recipe_refuses_a_car_of_another_run_and_an_unanchored_run(published: Published) -> None:
    code, report = published.recipe(1, published.car(2))
    assert code == 1 and "lacks block" in str(report["stderr"])
    code, report = published.recipe(3, published.car(3))
    assert code == 3 and report["verified"] is False and report["why"] == "not anchored"


def test_the_recipe_verifies_format1_anchors(published: Published, tmp_path: Path) -> None:
    """A format 1 database (written by that format's own writer) anchored now: the recipe's format 1 branch."""
    db = tmp_path / "format1.db"
    shutil.copyfile(FORMAT1_DB, db)
    env = published.env
    old = BlockchainMetadataStore(
        "metadata",
        f"sqlite:///{db}",
        signer=LocalSigner.from_key(env.devnet.accounts[0].private_key),
        client=env.client,
        registry_address=env.registry.address,
        pipeline=FORMAT1_PIPELINE,
    )
    old.open_store()
    try:
        assert old.flush_anchors(timeout=30)
        archive = ManifestArchive(old.runs.engine)
        for run_id in (1, 3):
            stored = archive.load(old.anchoring.pipeline_id, run_id)
            assert stored is not None
            assert str(published.blocks.add_bytes(stored.data, cid_version=1).cid) == stored.cid
            code, report = published.recipe(run_id, published.car(run_id, old), pipeline=FORMAT1_PIPELINE)
            assert code == 0, report
            assert report["manifestVersion"] == 1 and report["rebuiltRoot"] == hx(stored.root)
    finally:
        old.on_stop()
        old.close_store()


DOCS = Path(__file__).resolve().parents[2] / "docs" / "verifying.md"
RUN_ROOT_SELECTOR = "0x1d8036c6"
RUN_ANCHORED_TOPIC = "0x0c0acb060f92f95c0371753abfe24c86bbad511cce1980ef800e3da31eb6aaf2"


def _rpc(url: str, method: str, params: list[object]) -> object:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    request = urllib.request.Request(url, body, {"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as reply:
        return json.loads(reply.read())["result"]


def test_the_raw_json_rpc_requests_of_the_docs(published: Published) -> None:
    """Steps 2 and 3 exactly as docs/verifying.md writes them: calldata and topics built by hand, no ABI library."""
    docs = DOCS.read_text()
    assert RUN_ROOT_SELECTOR in docs and RUN_ANCHORED_TOPIC in docs
    url, registry = published.env.devnet.rpc_url, published.env.registry.address
    pipeline_id = "0x" + keccak(text=PIPELINE).hex()
    stored = published.store.anchoring.verifier.stored(1)
    data = RUN_ROOT_SELECTOR + pipeline_id[2:] + f"{1:064x}"
    assert _rpc(url, "eth_call", [{"to": registry, "data": data}, "latest"]) == hx(stored.root)
    topics = [RUN_ANCHORED_TOPIC, pipeline_id, "0x" + f"{1:064x}"]
    logs = _rpc(url, "eth_getLogs", [{"address": registry, "fromBlock": "0x0", "toBlock": "latest", "topics": topics}])
    assert isinstance(logs, list) and len(logs) == 1
    payload = bytes.fromhex(logs[0]["data"][2:])
    root, offset = payload[:32], int.from_bytes(payload[32:64], "big")
    length = int.from_bytes(payload[offset : offset + 32], "big")
    assert (root, offset) == (stored.root, 0x40)
    assert payload[offset + 32 : offset + 32 + length].decode() == stored.cid
    unanchored = RUN_ROOT_SELECTOR + pipeline_id[2:] + f"{3:064x}"
    assert _rpc(url, "eth_call", [{"to": registry, "data": unanchored}, "latest"]) == "0x" + "00" * 32
