// OpenZeppelin's @openzeppelin/merkle-tree as a reference peer: one JSON request on stdin, one JSON reply on stdout.
//
// Request:
//   {"simple":   [{"leaves": [hex32...], "indices": [i...], "proofs": [[hex32...]...]}],
//    // indices: the leaves to prove (default: all); proofs: ours, one per index (optional)
//    "standard": [{"encoding": ["bytes32", "string", ...], "values": [[...]...]}]}
// Integer values of "int*"/"uint*" types are decimal strings (converted to BigInt here).
// Reply:
//   {"version": "...",
//    "simple":   [{"root", "tree" (the library's node array), "proofs" (its proof of each indexed leaf),
//                  "acceptsOurs" (tree.verify), "staticAcceptsOurs" (SimpleMerkleTree.verify with the root)}],
//    "standard": [{"root", "tree", "leafHashes" (by value index), "proofs" (by value index)}]}
import { createRequire } from "node:module";
import oz from "@openzeppelin/merkle-tree";

const { SimpleMerkleTree, StandardMerkleTree } = oz;
const require = createRequire(import.meta.url);
const version = require("@openzeppelin/merkle-tree/package.json").version;

function simple({ leaves, indices, proofs }) {
  const tree = SimpleMerkleTree.of(leaves);
  const chosen = indices ?? leaves.map((_, i) => i);
  const reply = {
    root: tree.root,
    tree: tree.dump().tree,
    proofs: chosen.map((i) => tree.getProof(i)),
  };
  if (proofs) {
    reply.acceptsOurs = chosen.map((i, k) => tree.verify(leaves[i], proofs[k]));
    reply.staticAcceptsOurs = chosen.map((i, k) => SimpleMerkleTree.verify(tree.root, leaves[i], proofs[k]));
  }
  return reply;
}

function typed(encoding, value) {
  return value.map((v, i) => (/^u?int\d*$/.test(encoding[i]) ? BigInt(v) : v));
}

function standard({ encoding, values }) {
  const tree = StandardMerkleTree.of(values.map((v) => typed(encoding, v)), encoding);
  return {
    root: tree.root,
    tree: tree.dump().tree,
    leafHashes: values.map((_, i) => tree.tree[tree.values[i].treeIndex]),
    proofs: values.map((_, i) => tree.getProof(i)),
  };
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

try {
  const request = JSON.parse(await readStdin());
  const reply = {
    version,
    simple: (request.simple ?? []).map(simple),
    standard: (request.standard ?? []).map(standard),
  };
  process.stdout.write(JSON.stringify(reply));
} catch (error) {
  process.stdout.write(JSON.stringify({ fatal: String(error?.stack ?? error) }));
  process.exitCode = 1;
}
