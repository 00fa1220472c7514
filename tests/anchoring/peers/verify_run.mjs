// The recipe of docs/verifying.md as one script: check an anchored run with standard tools only
// (viem for the chain, @ipld/car + multiformats + @ipld/dag-pb + ipfs-unixfs for the manifest, and
// @openzeppelin/merkle-tree for the tree). It knows nothing of the project but what the docs say.
//
//   node verify_run.mjs --rpc URL --registry ADDRESS --pipeline NAME --run ID --car MANIFEST.car
//                       [--item KEY] [--from-block N]
//
// Prints one JSON document; exit 0 when the rebuilt root equals the anchored root (and --item is proven on chain),
// 3 when it does not, 1 on errors.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { CarReader } from "@ipld/car";
import * as dagPB from "@ipld/dag-pb";
import oz from "@openzeppelin/merkle-tree";
import { UnixFS } from "ipfs-unixfs";
import { CID } from "multiformats/cid";
import { sha256 } from "multiformats/hashes/sha2";
import {
  bytesToHex,
  bytesToString,
  concat,
  createPublicClient,
  encodeAbiParameters,
  http,
  keccak256,
  parseAbi,
  stringToHex,
} from "viem";

const { SimpleMerkleTree } = oz;

const REGISTRY_ABI = parseAbi([
  "function runRoot(bytes32 pipelineId, uint64 runId) view returns (bytes32)",
  "function verifyProof(bytes32 pipelineId, uint64 runId, bytes32 leaf, bytes32[] proof) view returns (bool)",
  "function verifyMetric(bytes32 pipelineId, uint64 runId, string name, int256 value, uint256 step, bytes32[] proof) view returns (bool)",
  "event RunAnchored(bytes32 indexed pipelineId, uint64 indexed runId, bytes32 merkleRoot, string manifestCid)",
]);
const RAW = 0x55;
const DAG_PB = 0x70;

// --- 1. the anchor: runRoot (eth_call) and the manifest CID from the RunAnchored event -------------------------
async function readAnchor(client, registry, pipelineId, runId, fromBlock) {
  const root = await client.readContract({
    address: registry, abi: REGISTRY_ABI, functionName: "runRoot", args: [pipelineId, runId],
  });
  const logs = await client.getLogs({
    address: registry, event: REGISTRY_ABI[3], args: { pipelineId, runId }, fromBlock, toBlock: "latest",
  });
  return { root, manifestCid: logs.length ? logs[0].args.manifestCid : null };
}

// --- 2. the manifest bytes from a CAR: every block re-hashed, then the UnixFS file read from its root ---------------
async function manifestFromCar(carBytes, manifestCid) {
  const car = await CarReader.fromBytes(carBytes);
  const blocks = new Map();
  for await (const { cid, bytes } of car.blocks()) {
    if (cid.multihash.code !== sha256.code) throw new Error(`block ${cid}: only sha2-256 blocks are read`);
    const digest = await sha256.digest(bytes);
    if (bytesToHex(digest.bytes) !== bytesToHex(cid.multihash.bytes)) throw new Error(`block ${cid} != its bytes`);
    blocks.set(`${cid.code}:${bytesToHex(cid.multihash.bytes)}`, bytes);
  }
  const read = (cid) => {
    const bytes = blocks.get(`${cid.code}:${bytesToHex(cid.multihash.bytes)}`);
    if (!bytes) throw new Error(`the CAR lacks block ${cid}`);
    if (cid.code === RAW) return bytes;
    if (cid.code !== DAG_PB) throw new Error(`block ${cid}: codec ${cid.code} is not a UnixFS file`);
    const node = dagPB.decode(bytes);
    const file = UnixFS.unmarshal(node.Data);
    return concat([file.data ?? new Uint8Array(), ...node.Links.map((link) => read(link.Hash))]);
  };
  return read(CID.parse(manifestCid));
}

// --- 3. one leaf per item: keccak256(keccak256(abi.encode(KIND, ...fields))), KIND = keccak256("anacostia.leaf.<kind>.v1")
const kindTag = (kind) => keccak256(stringToHex(`anacostia.leaf.${kind}.v1`));

function leafOf(item, pipelineId, runId) {
  const f = item.fields;
  let types;
  let values;
  if (item.kind === "metric") {
    types = ["string", "int256", "uint256"];
    values = [f.name, BigInt(f.value), BigInt(f.step)];
  } else if (item.kind === "artifact") {
    types = ["string", "bytes32", "uint256", "string", "string"];
    values = [f.location, `0x${f.sha256}`, BigInt(f.size), f.cid, f.details];
  } else if (item.kind === "run") {
    types = ["bytes32", "uint64", "string"];
    values = [pipelineId, runId, f.details];
  } else if (["param", "tag", "node"].includes(item.kind)) {
    types = ["string", "string"];
    values = [f.name, "value" in f ? f.value : f.details];
  } else {
    types = ["string", "string"];
    values = [item.key, f.details];
  }
  const encoded = encodeAbiParameters(
    ["bytes32", ...types].map((type) => ({ type })),
    [kindTag(item.kind), ...values],
  );
  return keccak256(keccak256(encoded));
}

// --- 4. the tree: manifest format 2 is OpenZeppelin's SimpleMerkleTree; format 1 promoted an odd node --------------
function hashPair(a, b) {
  return keccak256(a < b ? concat([a, b]) : concat([b, a]));
}

function format1Root(leaves) {
  let level = [...leaves].sort();
  while (level.length > 1) {
    const upper = [];
    for (let i = 0; i + 1 < level.length; i += 2) upper.push(hashPair(level[i], level[i + 1]));
    if (level.length % 2) upper.push(level[level.length - 1]);
    level = upper;
  }
  return level[0];
}

async function main() {
  const { values: opts } = parseArgs({
    options: {
      rpc: { type: "string" }, registry: { type: "string" }, pipeline: { type: "string" }, run: { type: "string" },
      car: { type: "string" }, item: { type: "string" }, "from-block": { type: "string", default: "0" },
    },
  });
  for (const name of ["rpc", "registry", "pipeline", "run", "car"]) {
    if (!opts[name]) throw new Error(`--${name} is required`);
  }
  const client = createPublicClient({ transport: http(opts.rpc) });
  const pipelineId = keccak256(stringToHex(opts.pipeline));
  const runId = BigInt(opts.run);
  const anchor = await readAnchor(client, opts.registry, pipelineId, runId, BigInt(opts["from-block"]));
  const report = { pipelineId, runId: opts.run, anchoredRoot: anchor.root, manifestCid: anchor.manifestCid };
  if (/^0x0+$/.test(anchor.root) || !anchor.manifestCid) return { ...report, verified: false, why: "not anchored" };

  const manifest = JSON.parse(bytesToString(await manifestFromCar(readFileSync(opts.car), anchor.manifestCid)));
  if (manifest.pipelineId !== pipelineId || BigInt(manifest.runId) !== runId) {
    return { ...report, verified: false, why: "the manifest is of another run" };
  }
  const leaves = Object.fromEntries(manifest.items.map((item) => [item.key, leafOf(item, pipelineId, runId)]));
  let tree = null;
  let root;
  if (manifest.version === 2) {
    tree = SimpleMerkleTree.of(Object.values(leaves));
    root = tree.root;
  } else if (manifest.version === 1) {
    root = format1Root(Object.values(leaves));
  } else {
    throw new Error(`unknown manifest format ${manifest.version}`);
  }
  Object.assign(report, { manifestVersion: manifest.version, rebuiltRoot: root, leaves, verified: root === anchor.root });

  if (opts.item !== undefined && tree !== null) {  // --- 5. one item proven by the contract itself
    const item = manifest.items.find((each) => each.key === opts.item);
    if (!item) throw new Error(`the manifest has no item ${opts.item}`);
    const leaf = leaves[item.key];
    const proof = tree.getProof(leaf);
    const call = (functionName, args) =>
      client.readContract({ address: opts.registry, abi: REGISTRY_ABI, functionName, args });
    const checks = { verifyProof: await call("verifyProof", [pipelineId, runId, leaf, proof]) };
    if (item.kind === "metric") {
      const { name, value, step } = item.fields;
      checks.verifyMetric = await call("verifyMetric", [pipelineId, runId, name, BigInt(value), BigInt(step), proof]);
    }
    report.item = { ...item, leaf, proof, checks, proven: Object.values(checks).every(Boolean) };
  }
  return report;
}

try {
  const report = await main();
  process.stdout.write(JSON.stringify(report, null, 2) + "\n");
  process.exitCode = report.verified && (report.item?.proven ?? true) ? 0 : 3;
} catch (error) {
  process.stderr.write(`${error?.message ?? error}\n`);
  process.exitCode = 1;
}
