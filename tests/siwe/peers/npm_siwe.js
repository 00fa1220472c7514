// The npm `siwe` library (with ethers 6) as a line-oriented JSON peer for the differential SIWE tests.
//
// One request per stdin line, one reply per stdout line, in order:
//   {"op": "parse", "messages": [text, ...]}
//       -> {"results": [{"ok": true, "fields": {...}, "text": prepareMessage()} | {"ok": false, "error": "..."}]}
//   {"op": "verify", "rpc_url": url | null, "items": [{"message": text, "signature": hex, "time": iso}, ...]}
//       -> {"results": [{"ok": true} | {"ok": false, "error": "..."}]}
// The process lives for a whole test session; a malformed request gets {"fatal": "..."} and the process goes on.
"use strict";

const readline = require("node:readline");
const { SiweMessage } = require("siwe");
const { JsonRpcProvider, version: ethersVersion } = require("ethers");

function fieldsOf(message) {
  return {
    scheme: message.scheme ?? null,
    domain: message.domain,
    address: message.address,
    statement: message.statement ?? null,
    uri: message.uri,
    version: message.version,
    chain_id: message.chainId,
    nonce: message.nonce,
    issued_at: message.issuedAt,
    expiration_time: message.expirationTime ?? null,
    not_before: message.notBefore ?? null,
    request_id: message.requestId ?? null,
    resources: message.resources ?? null,
  };
}

function oneLine(error) {
  const text = error && error.message ? error.message : String(error && error.type ? error.type : error);
  return text.split("\n")[0];
}

function parseOne(text) {
  try {
    const message = new SiweMessage(text);
    return { ok: true, fields: fieldsOf(message), text: message.prepareMessage() };
  } catch (error) {
    return { ok: false, error: oneLine(error) };
  }
}

async function verifyOne(item, provider) {
  try {
    const message = new SiweMessage(item.message);
    const result = await message.verify(
      { signature: item.signature, time: item.time },
      { provider: provider ?? undefined, suppressExceptions: true },
    );
    if (result.success) return { ok: true };
    const error = result.error;
    return { ok: false, error: error && error.type ? String(error.type) : oneLine(error) };
  } catch (error) {
    return { ok: false, error: oneLine(error) };
  }
}

async function handle(request) {
  if (request.op === "hello") return { ethers: ethersVersion, siwe: require("siwe/package.json").version };
  if (request.op === "parse") return { results: request.messages.map(parseOne) };
  if (request.op === "verify") {
    const provider = request.rpc_url ? new JsonRpcProvider(request.rpc_url, undefined, { staticNetwork: true }) : null;
    const results = [];
    for (const item of request.items) results.push(await verifyOne(item, provider));
    if (provider) provider.destroy();
    return { results };
  }
  return { fatal: `unknown op ${JSON.stringify(request.op)}` };
}

const lines = readline.createInterface({ input: process.stdin, terminal: false });
let queue = Promise.resolve();
lines.on("line", (line) => {
  queue = queue.then(async () => {
    let reply;
    try {
      reply = await handle(JSON.parse(line));
    } catch (error) {
      reply = { fatal: oneLine(error) };
    }
    process.stdout.write(JSON.stringify(reply) + "\n");
  });
});
