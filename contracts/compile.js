#!/usr/bin/env node
// Deterministic build of contracts/PHRRegistry.sol with the exactly pinned solc-js.
//
//   npm ci --prefix contracts && node contracts/compile.js [--out PATH]
//
// Writes the artifact (default: contracts/PHRRegistry.json). Exits non-zero and
// prints the compiler's messages on any compilation error. Warnings are printed
// and also fail the build, so the committed artifact is always warning-free.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const HERE = __dirname;
const CONTRACT_NAME = 'PHRRegistry';
const SOURCE_FILE = path.join(HERE, `${CONTRACT_NAME}.sol`);
// Source unit name used inside the compiler: independent of the checkout path,
// so the output does not depend on where the repository lives.
const SOURCE_UNIT = `${CONTRACT_NAME}.sol`;
const DEFAULT_OUT = path.join(HERE, `${CONTRACT_NAME}.json`);

// Everything that influences the bytecode. Recorded verbatim in the artifact.
//  - evmVersion london: geth's clique engine does not support Shanghai, so the
//    code must not contain PUSH0 (or any later opcode).
//  - metadata.bytecodeHash none: the metadata hash (which covers comments and
//    NatSpec) is not embedded, so documentation-only edits leave the bytecode
//    unchanged; the CBOR trailer still records the solc version. The link from
//    bytecode to exact source text is the artifact's sourceSha256.
const SETTINGS = {
  evmVersion: 'london',
  optimizer: { enabled: true, runs: 200 },
  viaIR: false,
  metadata: { bytecodeHash: 'none' },
};

function fail(msg) {
  process.stderr.write(msg.endsWith('\n') ? msg : msg + '\n');
  process.exit(1);
}

function parseArgs(argv) {
  let out = DEFAULT_OUT;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--out') {
      if (i + 1 >= argv.length) fail('compile.js: --out needs a PATH');
      out = path.resolve(argv[++i]);
    } else if (a.startsWith('--out=')) {
      out = path.resolve(a.slice('--out='.length));
    } else if (a === '-h' || a === '--help') {
      process.stdout.write('usage: node contracts/compile.js [--out PATH]\n');
      process.exit(0);
    } else {
      fail(`compile.js: unknown argument ${JSON.stringify(a)}\nusage: node contracts/compile.js [--out PATH]`);
    }
  }
  return { out };
}

function loadSolc() {
  let solc;
  try {
    solc = require('solc');
  } catch (e) {
    fail(`compile.js: cannot load solc (${e.code || e.message}).\nRun: npm ci --prefix contracts`);
  }
  // Guard against a stale node_modules that does not match the exact pin.
  const pinned = require(path.join(HERE, 'package.json')).dependencies.solc;
  const full = solc.version();
  if (!full.startsWith(`${pinned}+`)) {
    fail(`compile.js: solc ${full} is installed but package.json pins ${pinned}.\nRun: npm ci --prefix contracts`);
  }
  return solc;
}

function main() {
  const { out } = parseArgs(process.argv.slice(2));
  const solc = loadSolc();

  const sourceBytes = fs.readFileSync(SOURCE_FILE);
  const input = {
    language: 'Solidity',
    sources: { [SOURCE_UNIT]: { content: sourceBytes.toString('utf8') } },
    settings: {
      ...SETTINGS,
      outputSelection: {
        [SOURCE_UNIT]: {
          [CONTRACT_NAME]: ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'],
        },
      },
    },
  };

  const output = JSON.parse(solc.compile(JSON.stringify(input)));
  const messages = output.errors || [];
  for (const m of messages) process.stderr.write(m.formattedMessage || `${m.severity}: ${m.message}\n`);
  const errors = messages.filter((m) => m.severity === 'error');
  const warnings = messages.filter((m) => m.severity === 'warning');
  if (errors.length) fail(`compile.js: compilation failed with ${errors.length} error(s)`);
  if (warnings.length) fail(`compile.js: compilation produced ${warnings.length} warning(s); fix them`);

  const c = output.contracts && output.contracts[SOURCE_UNIT] && output.contracts[SOURCE_UNIT][CONTRACT_NAME];
  if (!c || !c.evm.bytecode.object || !c.evm.deployedBytecode.object) {
    fail(`compile.js: compiler produced no bytecode for ${CONTRACT_NAME}`);
  }

  const artifact = {
    contractName: CONTRACT_NAME,
    abi: c.abi,
    bytecode: '0x' + c.evm.bytecode.object,
    deployedBytecode: '0x' + c.evm.deployedBytecode.object,
    compiler: {
      name: 'solc-js',
      version: solc.version(),
      settings: SETTINGS,
    },
    sourceSha256: crypto.createHash('sha256').update(sourceBytes).digest('hex'),
  };

  fs.mkdirSync(path.dirname(out), { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify(artifact, null, 2) + '\n');
  fs.renameSync(tmp, out);
  process.stdout.write(`wrote ${out}\n`);
}

main();
