'use strict'
// The front shared by the stand-ins for AWS's JSON-protocol services
// (kinesalite for Kinesis, dynalite for DynamoDB): the backend bound to the
// loopback interface only, with every request's AWS Signature Version 4
// checked before the backend sees it.
//
// The backends themselves only look whether an Authorization header is
// present. Each request is signed again with an independent implementation
// and the configured secret key, and the two signatures are compared: see
// sigv4-verify.js, shared with the S3 stand-in.
//
// Command line of every such stand-in:
//   node NAME.js --port P [--path DIR] [--secret S] [--service NAME] [--no-verify]
//
//   --port P        TCP port on 127.0.0.1 (0 picks a free one; the port is
//                   then written to stderr)
//   --path DIR      keep the data in a LevelDB under DIR (default: memory)
//   --secret S      secret access key requests must be signed with
//                   (default: $KC_STANDIN_SECRET, else "kc-test-secret");
//                   any access key id is accepted
//   --service NAME  signing name the credential scope must carry
//                   (default: the service's own, "kinesis" or "dynamodb")
//   --no-verify     accept any request the backend accepts
//                   (also: KC_STANDIN_VERIFY=0)
//
// Prints "ready" on stdout once it accepts connections. SIGTERM/SIGINT close
// the database and exit 0.
//
// Rejections use the error shape of the JSON protocols (HTTP 400,
// {"__type": "...Exception", "message": "..."}) and the error types the
// services use:
//   MissingAuthenticationTokenException  no Authorization header at all
//   IncompleteSignatureException         Authorization header not parseable
//   InvalidSignatureException            anything else: wrong algorithm,
//       scope or date, a required header left unsigned, a signed header
//       missing, a body that does not match x-amz-content-sha256, or a
//       signature that differs from the one computed here.
// Each rejection is also logged as one line on stderr. Requests other than
// POST cannot reach any operation and are left to the backend, which refuses
// them as the service does.
//
// Limits, on purpose: only header authentication with X-Amz-Date is checked
// (no presigned query strings, no Date-only signing, no chunked payload
// signing); the services' clients use none of these. The request time is not
// compared with the clock.

const crypto = require('node:crypto')
const { parseArgs } = require('node:util')
const { serveOnLoopback } = require('./serve')
const { DEFAULT_SECRET, createVerifyingListener, verifyOffByEnv } = require('./sigv4-verify')

function readOptions(name, defaultService) {
  const usage = (message) => {
    if (message) process.stderr.write(`${name}.js: ${message}\n`)
    process.stderr.write(`usage: node ${name}.js --port P [--path DIR] [--secret S] ` +
      '[--service NAME] [--no-verify]\n')
    process.exit(2)
  }
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
    service: parsed.service || defaultService,
    verify: !(parsed['no-verify'] || verifyOffByEnv()),
  }
}

// The error type for each kind of verification failure.
const ERROR_TYPES = {
  missing: 'MissingAuthenticationTokenException',
  incomplete: 'IncompleteSignatureException',
}

// Runs a stand-in. `name`: for logs and usage; `service`: the default
// signing name; `contentType`: of error answers; `maxBodyBytes`: how much
// of a body is buffered for verification; `createServer(path)`: the
// backend's http.Server, its data under `path` or in memory.
function runJsonStandIn({ name, service, contentType, maxBodyBytes, createServer }) {
  const options = readOptions(name, service)

  const sendAuthError = (req, res, err) => {
    const type = ERROR_TYPES[err.kind] || 'InvalidSignatureException'
    const payload = JSON.stringify({ __type: type, message: err.message })
    res.statusCode = 400
    res.setHeader('Content-Type', contentType)
    res.setHeader('Content-Length', Buffer.byteLength(payload))
    res.setHeader('x-amzn-RequestId', crypto.randomUUID())
    res.end(payload)
    const target = req.headers['x-amz-target'] || `${req.method} ${req.url}`
    process.stderr.write(`${name}: ${new Date().toISOString()} rejected ${target} from ` +
      `${req.socket.remoteAddress}: ${type}: ${err.detail.replace(/\s+/g, ' ')}\n`)
  }

  const server = createServer(options.path)
  const handlers = server.listeners('request')
  if (handlers.length !== 1) throw new Error(`unexpected ${name} server layout`)
  const backend = handlers[0]
  server.removeAllListeners('request')

  // Only a POST can name an operation; the backend refuses everything else
  // by itself (as the service does), so those go straight through. This is
  // also what the readiness probes hit.
  server.on('request', createVerifyingListener({
    backend,
    verify: options.verify,
    verifyOptions: { secret: options.secret, service: options.service },
    maxBodyBytes,
    shouldVerify: (req) => req.method === 'POST',
    reject: sendAuthError,
  }))

  serveOnLoopback(server, {
    name,
    port: options.port,
    describe: () =>
      `${options.path ? `data in ${options.path}` : 'data in memory'}, ` +
      `signature verification ${options.verify ? 'on' : 'off'}`,
  })
}

module.exports = { runJsonStandIn }
