#!/usr/bin/env node
// Local Kinesis stand-in for the tests and the demo: kinesalite, bound to the
// loopback interface only, with every request's AWS Signature Version 4
// checked before kinesalite sees it.
//
// kinesalite itself only looks whether an Authorization header is present.
// Each request is signed again with an independent implementation and the
// configured secret key, and the two signatures are compared: see
// sigv4-verify.js, shared with the S3 stand-in.
//
// Usage:
//   node kinesalite.js --port P [--path DIR] [--secret S] [--service NAME] [--no-verify]
//
//   --port P        TCP port on 127.0.0.1 (0 picks a free one; the port is
//                   then written to stderr)
//   --path DIR      keep the streams in a LevelDB under DIR (default: memory)
//   --secret S      secret access key requests must be signed with
//                   (default: $KC_STANDIN_SECRET, else "kc-test-secret");
//                   any access key id is accepted
//   --service NAME  signing name the credential scope must carry
//                   (default "kinesis")
//   --no-verify     accept any request kinesalite accepts
//                   (also: KC_STANDIN_VERIFY=0)
//
// Prints "ready" on stdout once it accepts connections. SIGTERM/SIGINT close
// the database and exit 0.
//
// Rejections use the error shape kinesalite and Kinesis use for JSON 1.1
// (HTTP 400, {"__type": "...Exception", "message": "..."}) and the error
// types Kinesis uses:
//   MissingAuthenticationTokenException  no Authorization header at all
//   IncompleteSignatureException         Authorization header not parseable
//   InvalidSignatureException            anything else: wrong algorithm,
//       scope or date, a required header left unsigned, a signed header
//       missing, a body that does not match x-amz-content-sha256, or a
//       signature that differs from the one computed here.
// Each rejection is also logged as one line on stderr. Requests other than
// POST cannot reach any operation and are left to kinesalite, which refuses
// them with AccessDeniedException (HTTP 403), as Kinesis does.
//
// Limits, on purpose: only header authentication with X-Amz-Date is checked
// (no presigned query strings, no Date-only signing, no chunked payload
// signing); Kinesis clients use none of these. The request time is not
// compared with the clock.
'use strict'

const crypto = require('node:crypto')
const { parseArgs } = require('node:util')
const kinesalite = require('kinesalite')
const { serveOnLoopback } = require('./serve')
const { DEFAULT_SECRET, createVerifyingListener, verifyOffByEnv } = require('./sigv4-verify')

// kinesalite refuses bodies above 7 MiB; stop buffering a little after that.
const MAX_BODY_BYTES = 7 * 1024 * 1024 + 1

// ---------------------------------------------------------------- options

function usage(message) {
  if (message) process.stderr.write(`kinesalite.js: ${message}\n`)
  process.stderr.write('usage: node kinesalite.js --port P [--path DIR] [--secret S] ' +
    '[--service NAME] [--no-verify]\n')
  process.exit(2)
}

function readOptions() {
  let parsed
  try {
    parsed = parseArgs({
      options: {
        port: { type: 'string' },
        path: { type: 'string' },
        secret: { type: 'string' },
        service: { type: 'string' },
        'no-verify': { type: 'boolean' },
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

  const secret = parsed.secret ?? process.env.KC_STANDIN_SECRET ?? DEFAULT_SECRET
  if (secret === '') usage('the secret key must not be empty')

  return {
    port: Number(parsed.port),
    path: parsed.path,
    secret,
    service: parsed.service || 'kinesis',
    verify: !(parsed['no-verify'] || verifyOffByEnv()),
  }
}

// --------------------------------------------------------------- server

// The Kinesis error type for each kind of verification failure.
const ERROR_TYPES = {
  missing: 'MissingAuthenticationTokenException',
  incomplete: 'IncompleteSignatureException',
}

function sendAuthError(req, res, err) {
  const type = ERROR_TYPES[err.kind] || 'InvalidSignatureException'
  const payload = JSON.stringify({ __type: type, message: err.message })
  res.statusCode = 400
  res.setHeader('Content-Type', 'application/x-amz-json-1.1')
  res.setHeader('Content-Length', Buffer.byteLength(payload))
  res.setHeader('x-amzn-RequestId', crypto.randomUUID())
  res.end(payload)
  const target = req.headers['x-amz-target'] || `${req.method} ${req.url}`
  process.stderr.write(`kinesalite: ${new Date().toISOString()} rejected ${target} from ` +
    `${req.socket.remoteAddress}: ${type}: ${err.detail.replace(/\s+/g, ' ')}\n`)
}

function main() {
  const options = readOptions()
  const kinesaliteOptions = {
    createStreamMs: 0,
    deleteStreamMs: 0,
    updateStreamMs: 0,
    shardLimit: 100,
  }
  if (options.path) kinesaliteOptions.path = options.path

  const server = kinesalite(kinesaliteOptions)
  const handlers = server.listeners('request')
  if (handlers.length !== 1) throw new Error('unexpected kinesalite server layout')
  const kinesaliteHandler = handlers[0]
  server.removeAllListeners('request')

  // Only a POST can name an operation; kinesalite refuses everything else by
  // itself (as Kinesis does), so those go straight through. This is also
  // what the readiness probes hit.
  server.on('request', createVerifyingListener({
    backend: kinesaliteHandler,
    verify: options.verify,
    verifyOptions: { secret: options.secret, service: options.service },
    maxBodyBytes: MAX_BODY_BYTES,
    shouldVerify: (req) => req.method === 'POST',
    reject: sendAuthError,
  }))

  serveOnLoopback(server, {
    name: 'kinesalite',
    port: options.port,
    describe: () =>
      `${options.path ? `data in ${options.path}` : 'data in memory'}, ` +
      `signature verification ${options.verify ? 'on' : 'off'}`,
  })
}

main()
