#!/usr/bin/env node
// Local S3 stand-in for the tests and the demo: s3rver, bound to the loopback
// interface only, path-style addressing, with every request's AWS Signature
// Version 4 checked before s3rver sees it.
//
// s3rver itself only checks that the access key id is S3RVER; it does not
// verify SigV4 signatures. Each request is signed again here with an
// independent implementation and the configured secret key, with S3's rules
// (the path signed exactly as sent, x-amz-content-sha256 required and equal
// to the body's SHA-256 or UNSIGNED-PAYLOAD, signing name "s3"), and the two
// signatures are compared: see sigv4-verify.js, shared with the Kinesis
// stand-in.
//
// Usage:
//   node --openssl-legacy-provider s3rver.js --port P --directory DIR
//        [--bucket NAME]... [--secret S] [--no-verify] [--verbose]
//
//   --port P        TCP port on 127.0.0.1 (0 picks a free one; the port is
//                   then written to stderr)
//   --directory DIR where s3rver keeps buckets and objects
//   --bucket NAME   create this bucket at start (repeatable); an existing
//                   bucket in DIR keeps its objects
//   --secret S      secret access key requests must be signed with
//                   (default: $KC_STANDIN_SECRET, else "kc-test-secret");
//                   the access key id must be S3RVER, as s3rver requires
//   --no-verify     accept any request s3rver accepts
//                   (also: KC_STANDIN_VERIFY=0)
//   --verbose       let s3rver log every request
//
// The legacy OpenSSL provider is needed because s3rver encrypts its
// ListObjectsV2 continuation tokens with DES; without it this script refuses
// to start rather than fail on the first paged listing.
//
// Prints "ready" on stdout once it accepts connections. SIGTERM/SIGINT exit 0.
//
// Rejections use S3's XML error document and the codes S3 uses:
//   403 AccessDenied                no Authorization header (buckets here are
//                                   private), or a header left unsigned, a
//                                   wrong scope, algorithm or date
//   400 AuthorizationHeaderMalformed  Authorization header not parseable
//   400 XAmzContentSHA256Mismatch   x-amz-content-sha256 missing, refused or
//                                   not the body's hash
//   403 SignatureDoesNotMatch       the signature differs from the one
//                                   computed here
// Each rejection is also logged as one line on stderr.
//
// Objects are replaced atomically, as in S3: s3rver 3.7.1 truncates an
// object's file and then writes the new body into it, so a GET that races a
// PUT of the same key (a connector writing a deterministic key again after a
// restart, while another pipeline reads it) could read an empty or partial
// body S3 would never serve. Here the body goes to a temporary file that is
// renamed over the old one once complete; see atomicPutObject.
//
// A part is on disk before its UploadPart is answered: s3rver 3.7.1 answers
// once the part's bytes are hashed, while the file may still be being
// written, so a CompleteMultipartUpload sent on that answer could assemble
// a short object. See durablePutPart.
//
// What s3rver 3.7.1 lacks (ListParts, AbortMultipartUpload, throttling,
// server errors) is not added here; tests of those use an injected
// transport.
'use strict'

const crypto = require('node:crypto')
const http = require('node:http')
const { parseArgs } = require('node:util')
const fs = require('node:fs')
const path = require('node:path')
const { pipeline } = require('node:stream/promises')
const { Transform } = require('node:stream')
const S3rver = require('s3rver')
const FilesystemStore = require('s3rver/lib/stores/filesystem')
const { serveOnLoopback } = require('./serve')
const { DEFAULT_SECRET, createVerifyingListener, verifyOffByEnv } = require('./sigv4-verify')

// Requests are read whole before they are verified; multipart parts of a
// few MiB and test objects stay far below this.
const MAX_BODY_BYTES = 256 * 1024 * 1024

// ---------------------------------------------------------------- options

function usage(message) {
  if (message) process.stderr.write(`s3rver.js: ${message}\n`)
  process.stderr.write('usage: node --openssl-legacy-provider s3rver.js --port P --directory DIR ' +
    '[--bucket NAME]... [--secret S] [--no-verify] [--verbose]\n')
  process.exit(2)
}

function readOptions() {
  let parsed
  try {
    parsed = parseArgs({
      options: {
        port: { type: 'string' },
        directory: { type: 'string' },
        bucket: { type: 'string', multiple: true },
        secret: { type: 'string' },
        'no-verify': { type: 'boolean' },
        verbose: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values
  } catch (err) {
    usage(err.message)
  }
  if (parsed.help) usage()
  if (parsed.port === undefined) usage('--port is required')
  if (!/^\d+$/.test(parsed.port) || Number(parsed.port) > 65535) usage(`bad --port ${parsed.port}`)
  if (!parsed.directory) usage('--directory is required')
  const buckets = parsed.bucket || []
  for (const name of buckets) {
    // S3's rules for new bucket names, so a test cannot rely on a name that
    // real S3 would refuse.
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name)) usage(`bad bucket name "${name}"`)
  }

  const secret = parsed.secret ?? process.env.KC_STANDIN_SECRET ?? DEFAULT_SECRET
  if (secret === '') usage('the secret key must not be empty')

  return {
    port: Number(parsed.port),
    directory: parsed.directory,
    buckets,
    secret,
    verify: !(parsed['no-verify'] || verifyOffByEnv()),
    verbose: Boolean(parsed.verbose),
  }
}

function checkLegacyProvider() {
  try {
    crypto.createCipheriv('des', Buffer.alloc(8), Buffer.alloc(8))
  } catch {
    process.stderr.write('s3rver.js: DES is unavailable, so s3rver cannot page ListObjectsV2; ' +
      'run node with --openssl-legacy-provider (or NODE_OPTIONS=--openssl-legacy-provider)\n')
    process.exit(2)
  }
}

// --------------------------------------------------------------- server

// The S3 error (status, code) for each kind of verification failure.
const ERRORS = {
  missing: [403, 'AccessDenied'],
  incomplete: [400, 'AuthorizationHeaderMalformed'],
  payload: [400, 'XAmzContentSHA256Mismatch'],
  mismatch: [403, 'SignatureDoesNotMatch'],
  invalid: [403, 'AccessDenied'],
}

function escapeXml(text) {
  return text.replace(/[&<>"']/g, (c) =>
    ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c])
}

function sendAuthError(req, res, err) {
  const [status, code] = ERRORS[err.kind] || ERRORS.invalid
  const requestId = crypto.randomBytes(8).toString('hex').toUpperCase()
  const payload = '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${code}</Code><Message>${escapeXml(err.message)}</Message>` +
    `<RequestId>${requestId}</RequestId></Error>`
  res.statusCode = status
  res.setHeader('Content-Type', 'application/xml')
  res.setHeader('x-amz-request-id', requestId)
  if (req.method === 'HEAD') {
    res.end()
  } else {
    res.setHeader('Content-Length', Buffer.byteLength(payload))
    res.end(payload)
  }
  process.stderr.write(`s3rver: ${new Date().toISOString()} rejected ${req.method} ${req.url} from ` +
    `${req.socket.remoteAddress}: ${code}: ${err.detail.replace(/\s+/g, ' ')}\n`)
}

// ------------------------------------------------------- atomic PUT

let temporaryCounter = 0

// Replaces FilesystemStore#putObject (also used to complete multipart
// uploads): same result, but readers see the old body or the new one, never
// a mix. The temporary name does not end in s3rver's "._S3rver_object"
// suffix, so listings never show it.
async function atomicPutObject(object) {
  const objectPath = this.getResourcePath(object.bucket, object.key, 'object')
  await fs.promises.mkdir(path.dirname(objectPath), { recursive: true })
  const temporary = `${objectPath}.kc-partial-${process.pid}-${++temporaryCounter}`
  const md5 = crypto.createHash('md5')
  let size = 0
  try {
    if (Buffer.isBuffer(object.content)) {
      md5.update(object.content)
      size = object.content.length
      await fs.promises.writeFile(temporary, object.content)
    } else {
      const measure = new Transform({
        transform(chunk, encoding, callback) {
          md5.update(chunk)
          size += chunk.length
          callback(null, chunk)
        },
      })
      await pipeline(object.content, measure, fs.createWriteStream(temporary))
    }
    await fs.promises.rename(temporary, objectPath)
  } catch (err) {
    await fs.promises.rm(temporary, { force: true })
    throw err
  }
  const digest = md5.digest('hex')
  await this.putMetadata(object.bucket, object.key, object.metadata, digest)
  return { size, md5: digest }
}

// ------------------------------------------------------- durable parts

// Replaces FilesystemStore#putPart: same files and result, but it returns
// only once the part file is written and closed. s3rver's own resolves when
// its MD5 transform has seen the last byte, before the write stream is done;
// under I/O load a part of 64 MiB was then assembled from 22 MiB of it, and
// a 12 MiB upload through `aws s3 cp` (parts of 8 and 4 MiB) was stored as
// 6 MiB.
async function durablePutPart(bucket, uploadId, partNumber, content) {
  const partPath = path.join(
    this.getResourcePath(bucket, undefined, 'uploads'), uploadId, partNumber.toString())
  await fs.promises.mkdir(path.dirname(partPath), { recursive: true })
  const md5 = crypto.createHash('md5')
  let size = 0
  const measure = new Transform({
    transform(chunk, encoding, callback) {
      md5.update(chunk)
      size += chunk.length
      callback(null, chunk)
    },
  })
  await pipeline(content, measure, fs.createWriteStream(partPath))
  const digest = md5.digest('hex')
  await fs.promises.writeFile(`${partPath}.md5`, digest)
  return { size, md5: digest }
}

async function main() {
  const options = readOptions()
  checkLegacyProvider()
  FilesystemStore.prototype.putObject = atomicPutObject
  FilesystemStore.prototype.putPart = durablePutPart

  const app = new S3rver({
    directory: options.directory,
    silent: !options.verbose,
    vhostBuckets: false,
    configureBuckets: options.buckets.map((name) => ({ name, configs: [] })),
  })
  await app.configureBuckets()

  const server = http.createServer()
  server.on('request', createVerifyingListener({
    backend: app.callback(),
    verify: options.verify,
    verifyOptions: {
      secret: options.secret,
      service: 's3',
      uriEscapePath: false,
      allowUnsignedPayload: true,
      requirePayloadHash: true,
    },
    maxBodyBytes: MAX_BODY_BYTES,
    reject: sendAuthError,
  }))

  serveOnLoopback(server, {
    name: 's3rver',
    port: options.port,
    describe: () =>
      `data in ${options.directory}, ` +
      `buckets ${options.buckets.join(', ') || '(none created)'}, ` +
      `signature verification ${options.verify ? 'on' : 'off'}`,
  })
}

main().catch((err) => {
  process.stderr.write(`s3rver: ${err.stack || err.message}\n`)
  process.exit(1)
})
