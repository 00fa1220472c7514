#!/usr/bin/env node
// A `solc`-compatible command line over solc-js, for machines with no native solc.
// Supports exactly what py-solc-x uses: `--version` and `--standard-json` (input on stdin).
// Imports resolve against --base-path and every --include-path (in that order); --allow-paths is accepted and
// ignored (solc-js reads files through this callback only). Only the compiler's JSON is written to stdout.
'use strict';
const fs = require('fs');
const path = require('path');

const argv = process.argv.slice(2);
const solc = require('solc');

function optionValues(name) {
  const values = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === name && i + 1 < argv.length) values.push(argv[++i]);
    else if (argv[i].startsWith(name + '=')) values.push(argv[i].slice(name.length + 1));
  }
  return values;
}

if (argv.includes('--version')) {
  process.stdout.write('solc, the solidity compiler commandline interface\nVersion: ' + solc.version() + '\n');
  process.exit(0);
}

if (!argv.includes('--standard-json')) {
  process.stderr.write('solc-js-adapter: only --version and --standard-json are supported\n');
  process.exit(2);
}

const roots = [...optionValues('--base-path'), ...optionValues('--include-path')];
if (roots.length === 0) roots.push(process.cwd());

function findImports(importPath) {
  for (const root of roots) {
    const candidate = path.resolve(root, importPath);
    if (fs.existsSync(candidate)) return { contents: fs.readFileSync(candidate, 'utf8') };
  }
  return { error: 'File not found: ' + importPath + ' (searched ' + roots.join(', ') + ')' };
}

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  // solc-js prints diagnostics such as ">>> Cannot retry compilation ..." through console.log: keep them off stdout.
  console.log = (...parts) => process.stderr.write(parts.join(' ') + '\n');
  const output = solc.compile(input, { import: findImports });
  process.stdout.write(output);
  process.stdout.write('\n');
});
