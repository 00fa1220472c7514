// OpenZeppelin's @openzeppelin/merkle-tree as a reference peer: one JSON request on stdin, one JSON reply on stdout.
//
// Request:
//   {"simple":   [{"leaves": [hex32...], "proofs": [[hex32...]...]}],        // proofs: ours, one per leaf (optional)
//    "standard": [{"encoding": ["bytes32", "string", ...], "values": [[...]...]}]}
// Integer values of "int*"/"uint*" types are decimal strings (converted to BigInt here).
// Reply:
//   {"version": "...",
//    "simple":   [{"root", "tree" (the library's node array), "proofs" (its proof of each leaf, by index),
//                  "acceptsOurs" (tree.verify), "staticAcceptsOurs" (SimpleMerkleTree.verify with the root)}],
//    "standard": [{"root", "tree", "leafHashes" (by value index), "proofs" (by value index)}]}
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import oz from "@openzeppelin/merkle-tree";

const { SimpleMerkleTree, StandardMerkleTree } = oz;
const require = createRequire(import.meta.url);
const version = require("@openzeppelin/merkle-tree/package.json").version;

function simple({ leaves, proofs }) {
  const tree = SimpleMerkleTree.of(leaves);
  const reply = {
    root: tree.root,
    tree: tree.dump().tree,
    proofs: leaves.map((_, i) => tree.getProof(i)),
  };
  if (proofs) {
    reply.acceptsOurs = leaves.map((leaf, i) => tree.verify(leaf, proofs[i]));
    reply.staticAcceptsOurs = leaves.map((leaf, i) => SimpleMerkleTree.verify(tree.root, leaf, proofs[i]));
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

try {
  const request = JSON.parse(readFileSync(0, "utf8"));
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
