// The JS ecosystem's own IPFS software, driven by the Python peer tests: one JSON request on stdin, one JSON
// answer on stdout. Run with `node --import ./polyfill.mjs js_peer.mjs < request.json` (Node 20).
//
//   {"op":"helia-add","imports":[{"entries":[{"path":"d/a.txt","file":"/abs"},{"path":"d/e"}],"options":{...}}]}
//       Helia + @helia/unixfs imports (ipfs-unixfs-importer options as given), one after the other
//       -> {"imports":[{"d/a.txt":"bafk...","d":"bafy..."}]}
//   {"op":"helia-read","car":"/x.car","paths":["<root>/sub/file"],"ls":"<root>/sub"}
//       @helia/car imports the CAR into a fresh Helia; @helia/unixfs cats each path, its exporter lists "ls"
//       -> {"files":{"<path>":{"size":N,"sha256":"hex"}},"ls":["name",...]}
//   {"op":"ipld-car","car":"/x.car"} -> @ipld/car reads a CARv1 or CARv2, re-hashing every block
//       -> {"version":2,"roots":["..."],"blocks":N}
import { createHash } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { createReadStream } from 'node:fs'
import { CarReader } from '@ipld/car'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced } from 'ipfs-unixfs-importer/layout'

// Helia is loaded only by the requests that use it (it takes seconds to load on a busy machine)
async function helia () {
  const [{ createHelia }, { unixfs }, { car }, { exporter }] = await Promise.all([
    import('helia'), import('@helia/unixfs'), import('@helia/car'), import('ipfs-unixfs-exporter')])
  return { node: await createHelia({ start: false }), unixfs, car, exporter }
}

function importerOptions (o) {
  return {
    cidVersion: o.cidVersion,
    rawLeaves: o.rawLeaves,
    leafType: 'file',
    reduceSingleLeafToSelf: true,
    chunker: fixedSize({ chunkSize: o.chunkSize }),
    layout: balanced({ maxChildrenPerNode: o.maxLinks }),
    shardSplitThresholdBytes: o.shardSplitThresholdBytes,
    shardSplitStrategy: o.shardSplitStrategy,
    shardFanoutBits: o.shardFanoutBits,
    wrapWithDirectory: false
  }
}

async function heliaAdd (req) {
  const { node, unixfs } = await helia()
  const fs = unixfs(node)
  const imports = []
  for (const request of req.imports) {
    const source = request.entries.map((e) => (e.file == null
      ? { path: e.path }
      : { path: e.path, content: createReadStream(e.file) }))
    const entries = {}
    for await (const entry of fs.addAll(source, importerOptions(request.options))) {
      entries[entry.path] = entry.cid.toString()
    }
    imports.push(entries)
  }
  await node.stop()
  return { imports }
}

async function heliaRead (req) {
  const { node, unixfs, car, exporter } = await helia()
  const reader = await CarReader.fromBytes(await readFile(req.car))
  await car(node).import(reader)
  const fs = unixfs(node)
  const files = {}
  for (const path of req.paths ?? []) {
    const [root, ...rest] = path.split('/')
    const hash = createHash('sha256')
    let size = 0
    for await (const chunk of fs.cat(CID.parse(root), { ...(rest.length > 0 ? { path: rest.join('/') } : {}), offline: true })) {
      hash.update(chunk)
      size += chunk.length
    }
    files[path] = { size, sha256: hash.digest('hex') }
  }
  const ls = []
  if (req.ls != null) {
    // the exporter Helia's unixfs uses, given the path as a string
    const dir = await exporter(req.ls, node.blockstore, { offline: true })
    for await (const entry of dir.entries()) ls.push(entry.name)
  }
  await node.stop()
  return { files, ls }
}

async function ipldCar (req) {
  const reader = await CarReader.fromBytes(await readFile(req.car))
  let blocks = 0
  for await (const { cid, bytes } of reader.blocks()) {
    const digest = await sha256.digest(bytes)
    if (!CID.create(cid.version, cid.code, digest).equals(cid)) throw new Error(`block ${cid} does not hash to its CID`)
    blocks += 1
  }
  return { version: reader.version, roots: (await reader.getRoots()).map((c) => c.toString()), blocks }
}

const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
const req = JSON.parse(Buffer.concat(chunks).toString('utf8'))
const ops = { 'helia-add': heliaAdd, 'helia-read': heliaRead, 'ipld-car': ipldCar }
// exit only once stdout is flushed (a pipe takes 64 KiB at a time); helia may leave timers behind
process.stdout.write(JSON.stringify(await ops[req.op](req)) + '\n', () => process.exit(0))
