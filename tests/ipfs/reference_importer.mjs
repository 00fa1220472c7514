// Reference oracle for the cross-check tests: the npm ipfs-unixfs-importer (what js-ipfs / Helia use), configured the
// way Kubo imports, plus @ipld/car to read CARs our writer produced. One process handles many requests: it reads one
// JSON request per line on stdin and answers one JSON line on stdout.
//
//   {"op":"import","entries":[{"path":"a.txt","file":"/abs/a.txt"}],"cidVersion":0,"rawLeaves":false,
//    "chunkSize":262144,"maxChildrenPerNode":174,"wrapWithDirectory":false}
//     -> {"entries":[{"path":"a.txt","cid":"Qm...","size":"123"}]}          (size = cumulative DAG size)
//   {"op":"car","file":"/abs/x.car"} -> {"roots":["..."],"blocks":["..."]} (every block re-hashed)
import { createReadStream } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { importer } from 'ipfs-unixfs-importer'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced } from 'ipfs-unixfs-importer/layout'
import { BlackHoleBlockstore } from 'blockstore-core/black-hole'
import { CarReader } from '@ipld/car'
import { sha256 } from 'multiformats/hashes/sha2'
import { CID } from 'multiformats/cid'

async function runImport (req) {
  const source = req.entries.map((e) => (e.file == null
    ? { path: e.path }
    : { path: e.path, content: createReadStream(e.file, { highWaterMark: 1 << 20 }) }))
  const out = []
  for await (const entry of importer(source, new BlackHoleBlockstore(), {
    cidVersion: req.cidVersion,
    rawLeaves: req.rawLeaves,
    leafType: 'file',
    reduceSingleLeafToSelf: true,
    wrapWithDirectory: req.wrapWithDirectory ?? false,
    chunker: fixedSize({ chunkSize: req.chunkSize }),
    layout: balanced({ maxChildrenPerNode: req.maxChildrenPerNode }),
    shardSplitThresholdBytes: 1 << 30
  })) {
    out.push({ path: entry.path ?? '', cid: entry.cid.toString(), size: entry.size.toString() })
  }
  return { entries: out }
}

async function runCar (req) {
  const reader = await CarReader.fromBytes(await readFile(req.file))
  const roots = (await reader.getRoots()).map((c) => c.toString())
  const blocks = []
  for await (const { cid, bytes } of reader.blocks()) {
    const digest = await sha256.digest(bytes)
    const expect = CID.create(cid.version, cid.code, digest)
    if (!expect.equals(cid)) throw new Error(`block ${cid} does not hash to its CID`)
    blocks.push(cid.toString())
  }
  return { roots, blocks }
}

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity })
for await (const line of rl) {
  if (!line.trim()) continue
  let answer
  try {
    const req = JSON.parse(line)
    answer = req.op === 'car' ? await runCar(req) : await runImport(req)
  } catch (err) {
    answer = { error: String(err?.stack ?? err) }
  }
  process.stdout.write(JSON.stringify(answer) + '\n')
}
